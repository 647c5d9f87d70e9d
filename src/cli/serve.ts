/**
 * `pipestate serve`: the HTTP service, configured from one JSON file, over an engine that keeps
 * its state in a data directory (--data or `data_dir`), recovered before it listens, or in
 * PostgreSQL shared with other instances (--postgres or `database_url`, issue 11), or in memory
 * only (said at start and in /healthz). Listens on loopback unless told otherwise; says loudly
 * when authentication is off.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine, type EngineOptions } from '../api/engine.js';
import { openEngine, type DurableEngine } from '../api/durable-engine.js';
import { ConfigError, ENV, resolveConfig, type ServiceConfig, type ServiceLimits } from '../api/http/config.js';
import { createServer, type PipestateServer, type ServerOptions } from '../api/http/server.js';
import type { EnginePort } from '../api/http/port.js';
import { withStoredAnswers } from '../api/http/stored-port.js';
import { openSharedEngine, type SharedEngine, type SharedEngineOptions } from '../api/shared-engine.js';
import { PipestateError, type ProjectInput } from '../model/index.js';
import { DURABILITY_MODES, JournalError, type DurabilityMode } from '../store/journal/index.js';

export const DEFAULT_PORT = 7070;

/** The built web view (`npm run build`): dist/ui/, from src/cli and dist/cli alike. */
export const UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));
export const DEFAULT_HOST = '127.0.0.1';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  /** --config; else PIPESTATE_CONFIG */
  readonly configPath?: string;
  readonly noAuth: boolean;
  /** --no-ui: do not serve the web view at /ui/ */
  readonly noUi?: boolean;
  /** --data: the data directory (else the configuration's data_dir; else memory only) */
  readonly dataDir?: string;
  /** --durability: always, batch or off (else the configuration's; else batch) */
  readonly durability?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** status lines (stdout) */
  readonly log: (line: string) => void;
  /** warnings (stderr) */
  readonly warn: (line: string) => void;
  readonly server?: Omit<ServerOptions, 'apps' | 'noAuth'>;
  /** from the command line; each overrides the configuration file's */
  readonly limits?: ServiceLimits;
  /** --postgres; else PIPESTATE_DATABASE_URL; else the configuration's database_url */
  readonly databaseUrl?: string;
  /** options of the shared engine (tests: schema, timings) */
  readonly shared?: Omit<SharedEngineOptions, 'databaseUrl'>;
}

/** The configured limits as server options; absent ones keep the server's defaults. */
function limitOptions(l: ServiceLimits): Partial<ServerOptions> {
  const admission = {
    ...(l.max_concurrent_reads !== undefined ? { concurrency: l.max_concurrent_reads } : {}),
    ...(l.max_queued_reads !== undefined ? { queue: l.max_queued_reads } : {}),
  };
  return {
    ...(l.max_body_bytes !== undefined ? { bodyLimitBytes: l.max_body_bytes } : {}),
    ...(l.max_definition_bytes !== undefined ? { definitionLimitBytes: l.max_definition_bytes } : {}),
    ...(Object.keys(admission).length > 0 ? { admission } : {}),
  };
}

export interface Service {
  /** the working set queries read (with --postgres: this instance's follower of the shared journal) */
  readonly engine: Engine;
  /** with --postgres: the engine on the shared journal */
  readonly shared?: SharedEngine;
  readonly server: PipestateServer;
  readonly config: ServiceConfig;
  /** e.g. http://127.0.0.1:7070 */
  readonly url: string;
  /** the web view's address, when it is served */
  readonly uiUrl: string | undefined;
  close(): Promise<void>;
}

const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** Why listening failed, in words that say what to change (all are configuration errors: exit 2). */
const LISTEN_ERRORS: ReadonlyMap<string, (host: string, port: number) => string> = new Map([
  ['EADDRINUSE', (host: string, port: number) => `port ${port} on ${host} is in use; pass --port <n>`],
  ['EACCES', (host: string, port: number) => `not allowed to listen on ${host}:${port}`],
  ['ENOTFOUND', (host: string) => `--host ${host} is not a known host name`],
  ['EAI_AGAIN', (host: string) => `--host ${host} could not be resolved (name service unavailable)`],
  ['EADDRNOTAVAIL', (host: string) => `--host ${host} is not an address of this machine`],
]);

const NO_AUTH_BANNER = [
  '',
  '  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '  !!  AUTHENTICATION IS OFF (--no-auth)                              !!',
  '  !!  Anyone who can reach this port can read and change every task  !!',
  '  !!  of every project. For local use only.                          !!',
  '  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '',
];

export async function startService(o: ServeOptions): Promise<Service> {
  if (o.configPath === undefined && !o.env[ENV.config]) {
    throw new ConfigError(`no configuration: pass --config <file> or set ${ENV.config} (config/demo.json is an example)`);
  }
  const config = resolveConfig(o.configPath, o.env);
  const source = o.configPath ?? o.env[ENV.config];
  const dataDir = o.dataDir ?? config.data_dir;
  const databaseUrl = o.databaseUrl ?? o.env[ENV.databaseUrl] ?? config.database_url;
  if (databaseUrl !== undefined && dataDir !== undefined) {
    throw new ConfigError(
      'both a data directory and a database are configured: state is kept in one place; pass --data or --postgres, not both',
    );
  }
  // What every engine of the service is given; checked here, before any storage is touched.
  const engineOptions: EngineOptions = { quotas: config.quotas, taskUrl: config.task_url };
  try {
    createEngine(engineOptions).policies.close();
  } catch (error) {
    if (error instanceof PipestateError) throw new ConfigError(`${source}: task_url: ${error.message}`);
    throw error;
  }
  const { engine, shared, api } =
    databaseUrl !== undefined
      ? await onDatabase(databaseUrl, config, source, o, engineOptions)
      : await onDisk(dataDir, config, source, o, engineOptions);
  const server = createServer(api, {
    ...o.server,
    ...limitOptions({ ...config.limits, ...o.limits }),
    apps: config.apps,
    noAuth: o.noAuth,
    ...(o.noUi ? {} : { ui: { dir: UI_DIR } }),
  });
  server.listen(o.port, o.host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([e]) => {
        throw e;
      }),
    ]);
  } catch (error) {
    server.close();
    await (shared ?? engine).close();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === undefined ? undefined : LISTEN_ERRORS.get(code);
    if (why !== undefined) throw new ConfigError(why(o.host, o.port));
    if (code !== undefined) throw new ConfigError(`cannot listen on ${o.host}:${o.port} (${code})`);
    throw error;
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  if (o.noAuth) {
    for (const line of NO_AUTH_BANNER) o.warn(line);
    if (!LOOPBACK.has(o.host)) o.warn(`  !!  and it listens on ${o.host}, not only on loopback: other machines can reach it`);
  }
  o.log(`pipestate: listening on ${url} (${config.projects.length} project(s), ${o.noAuth ? 'no auth' : `${config.apps.length} app(s)`})`);
  const uiUrl = server.ui ? `${url}/ui/` : undefined;
  if (server.ui && !server.ui.built) o.warn(`pipestate: the web view is not built (run npm run build); ${uiUrl} says so`);
  else if (uiUrl) o.log(`pipestate: web view at ${uiUrl}`);
  return {
    engine,
    shared,
    server,
    config,
    url,
    uiUrl,
    // Stop taking requests, then write what is pending and a last checkpoint.
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await (shared ?? engine).close();
    },
  };
}

interface Opened {
  readonly engine: Engine;
  readonly shared?: SharedEngine;
  /** what the HTTP adapter serves */
  readonly api: EnginePort;
}

/** In memory, or over a data directory. */
async function onDisk(
  dataDir: string | undefined,
  config: ServiceConfig,
  source: string | undefined,
  o: ServeOptions,
  engineOptions: EngineOptions,
): Promise<Opened> {
  const engine = dataDir === undefined ? createEngine(engineOptions) : await openDurable(dataDir, o, config, engineOptions);
  try {
    registerProjects(engine, config.projects, source, dataDir);
    checkApps(config, source, o);
    await engine.durable();
  } catch (error) {
    await engine.close();
    throw error;
  }
  if (dataDir === undefined) o.log('pipestate: state is in memory only: nothing survives a restart (pass --data <dir> to keep it)');
  else o.log(recoveredLine(engine as DurableEngine));
  return { engine, api: dataDir === undefined ? engine : withStoredAnswers(engine as DurableEngine) };
}

function checkApps(config: ServiceConfig, source: string | undefined, o: ServeOptions): void {
  if (!o.noAuth && config.apps.length === 0) {
    throw new ConfigError(
      `no apps configured: add "apps" to ${source}, set ${ENV.appCode} and ${ENV.appSecret}, or pass --no-auth for local use`,
    );
  }
}

/**
 * An instance of a shared deployment (issue 11). The configuration is checked before the
 * database is touched (the projects in a scratch engine); then it boots from the database (a
 * JournalError naming the URL, password hidden, when it cannot), registers the configured
 * projects unless the database holds them already (every instance starts with the same file; a
 * registered project cannot change), and says what it booted.
 */
async function onDatabase(
  url: string,
  config: ServiceConfig,
  source: string | undefined,
  o: ServeOptions,
  engineOptions: EngineOptions,
): Promise<Opened> {
  const scratch = createEngine(engineOptions);
  registerProjects(scratch, config.projects, source, undefined);
  scratch.policies.close();
  checkApps(config, source, o);
  const schema = o.shared?.schema ?? o.env[ENV.databaseSchema];
  const shared = await openSharedEngine({
    ...engineOptions,
    ...o.shared,
    ...(schema !== undefined ? { schema } : {}),
    databaseUrl: url,
    log: o.shared?.log ?? ((m, e) => o.warn(`pipestate: ${m}${e ? `: ${(e as Error).message ?? e}` : ''}`)),
  });
  try {
    for (const [i, project] of config.projects.entries()) {
      const held = await shared.ensureProject(project);
      if (JSON.stringify(held) !== JSON.stringify(projectAsRegistered(project))) {
        throw new ConfigError(
          `${source}: projects[${i}]: project ${project.id} in ${shared.status().storage} is ${JSON.stringify(held)}; a registered project cannot change`,
        );
      }
    }
  } catch (error) {
    await shared.close();
    if (error instanceof PipestateError) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
  const b = shared.boot;
  const s = shared.status();
  o.log(
    `pipestate: shared journal ${s.storage}: booted ${count(b.projects, 'project')}, ${count(b.tasks, 'task')} (${count(b.nodes, 'node')})` +
      ` from ${b.checkpoint ? `the checkpoint at cursor ${b.checkpoint.seq}` : 'the start of the journal'} plus ${count(b.changes, 'journaled change')}` +
      ` in ${b.seconds.toFixed(2)} s; cursor ${s.cursor}`,
  );
  return { engine: shared.local, shared, api: shared.httpPort() };
}

const projectAsRegistered = (p: ProjectInput) => ({
  id: p.id,
  bk_biz_id: p.bk_biz_id ?? null,
  name: p.name,
  time_zone: p.time_zone ?? 'Asia/Shanghai',
});

const count = (n: number, what: string): string => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;

function recoveredLine(engine: DurableEngine): string {
  const r = engine.recovery;
  const s = engine.storageStatus() as { data_dir: string; durability: string };
  return (
    `pipestate: recovered ${count(r.projects, 'project')}, ${count(r.tasks, 'task')} (${count(r.nodes, 'node')}) and ` +
    `${count(r.changes, 'journaled change')} from ${s.data_dir} in ${r.seconds.toFixed(2)} s; durability: ${s.durability}`
  );
}

async function openDurable(dataDir: string, o: ServeOptions, config: ServiceConfig, engineOptions: EngineOptions): Promise<DurableEngine> {
  const mode = o.durability ?? config.durability?.mode ?? 'batch';
  if (!DURABILITY_MODES.includes(mode as DurabilityMode))
    throw new ConfigError(`durability must be one of ${DURABILITY_MODES.join(', ')}, not ${JSON.stringify(mode)}`);
  const hours = (h: number | undefined) => (h === undefined ? undefined : Math.round(h * 3_600_000));
  const retention = config.retention;
  try {
    return await openEngine({
      ...engineOptions,
      dataDir,
      durability: mode as DurabilityMode,
      batchMs: config.durability?.batch_ms,
      checkpoint: config.durability?.checkpoint_every === undefined ? undefined : { every: config.durability.checkpoint_every },
      retention: {
        ...(hours(retention?.archive_after_hours) !== undefined ? { archiveAfterMs: hours(retention?.archive_after_hours) } : {}),
        ...(hours(retention?.expire_after_hours) !== undefined ? { expireAfterMs: hours(retention?.expire_after_hours) } : {}),
      },
      log: (message, error) => console.error(`pipestate: ${message}`, error ?? ''),
    });
  } catch (error) {
    // A directory that cannot be used, or settings that make no sense: refuse to start, saying why.
    if (error instanceof JournalError || error instanceof RangeError) throw new ConfigError(error.message);
    throw error;
  }
}

/**
 * The configured projects: new ones are registered (and journaled); those the data directory
 * already holds must be the same, since a project never changes once registered.
 */
function registerProjects(
  engine: Engine,
  projects: readonly ProjectInput[],
  source: string | undefined,
  dataDir: string | undefined,
): void {
  for (const [i, project] of projects.entries()) {
    const held = engine.snapshot().getProject(project.id);
    if (held !== undefined) {
      if (JSON.stringify(projectAsRegistered(project)) !== JSON.stringify(held)) {
        throw new ConfigError(
          `${source}: projects[${i}]: project ${project.id} in ${dataDir} is ${JSON.stringify(held)}; a registered project cannot change`,
        );
      }
      continue;
    }
    try {
      engine.createProject(project);
    } catch (error) {
      if (error instanceof PipestateError) throw new ConfigError(`${source}: projects[${i}]: ${error.message}`);
      throw error;
    }
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on).off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on).on('SIGTERM', on);
  });
}
