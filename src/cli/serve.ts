/**
 * `pipestate serve`: the HTTP service over a fresh in-memory engine, configured from one JSON
 * file. Listens on loopback unless told otherwise; says loudly when authentication is off.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createEngine, type Engine } from '../api/engine.js';
import { ConfigError, ENV, resolveConfig, type ServiceConfig } from '../api/http/config.js';
import { createServer, type PipestateServer, type ServerOptions } from '../api/http/server.js';
import type { EnginePort } from '../api/http/port.js';
import { openSharedEngine, type SharedEngine, type SharedEngineOptions } from '../api/shared-engine.js';
import { PipestateError, type ProjectInput } from '../model/index.js';

export const DEFAULT_PORT = 7070;
export const DEFAULT_HOST = '127.0.0.1';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  /** --config; else PIPESTATE_CONFIG */
  readonly configPath?: string;
  readonly noAuth: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** status lines (stdout) */
  readonly log: (line: string) => void;
  /** warnings (stderr) */
  readonly warn: (line: string) => void;
  readonly server?: Omit<ServerOptions, 'apps' | 'noAuth'>;
  /** --postgres; else PIPESTATE_DATABASE_URL; else the config file's database_url */
  readonly databaseUrl?: string;
  /** options of the shared engine (tests: schema, timings) */
  readonly shared?: Omit<SharedEngineOptions, 'databaseUrl'>;
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
  close(): Promise<void>;
}

const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

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
  // The projects are checked (in memory) before anything else, and before any database is touched.
  const memory = inMemory(config.projects, source);
  if (!o.noAuth && config.apps.length === 0) {
    throw new ConfigError(`no apps configured: add "apps" to ${source}, set ${ENV.appCode} and ${ENV.appSecret}, or pass --no-auth for local use`);
  }
  const databaseUrl = o.databaseUrl ?? o.env[ENV.databaseUrl] ?? config.database_url;
  const { engine, shared, served } = databaseUrl === undefined ? memory : await onDatabase(databaseUrl, config.projects, source, o);
  const server = createServer(served, { ...o.server, apps: config.apps, noAuth: o.noAuth });
  server.listen(o.port, o.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e; })]);
  } catch (error) {
    server.close();
    await shared?.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`port ${o.port} on ${o.host} is in use; pass --port <n>`);
    if (code === 'EACCES') throw new ConfigError(`not allowed to listen on ${o.host}:${o.port}`);
    throw error;
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  if (o.noAuth) {
    for (const line of NO_AUTH_BANNER) o.warn(line);
    if (!LOOPBACK.has(o.host)) o.warn(`  !!  and it listens on ${o.host}, not only on loopback: other machines can reach it`);
  }
  o.log(`pipestate: listening on ${url} (${config.projects.length} project(s), ${o.noAuth ? 'no auth' : `${config.apps.length} app(s)`})`);
  return {
    engine, shared, server, config, url,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await shared?.close();
    },
  };
}

const projectError = (source: string | undefined, i: number, error: unknown): unknown =>
  error instanceof PipestateError ? new ConfigError(`${source}: projects[${i}]: ${error.message}`) : error;

function inMemory(projects: readonly ProjectInput[], source: string | undefined): { engine: Engine; shared?: undefined; served: EnginePort } {
  const engine = createEngine();
  for (const [i, project] of projects.entries()) {
    try {
      engine.createProject(project);
    } catch (error) {
      throw projectError(source, i, error);
    }
  }
  return { engine, served: engine };
}

/**
 * An instance of a shared deployment: boots from the database (a JournalError naming the URL,
 * password hidden, when it cannot), registers the configured projects unless an identical one is
 * there already (every instance of a deployment starts with the same file), says what it booted.
 */
async function onDatabase(url: string, projects: readonly ProjectInput[], source: string | undefined, o: ServeOptions): Promise<{ engine: Engine; shared: SharedEngine; served: EnginePort }> {
  const schema = o.shared?.schema ?? o.env[ENV.databaseSchema];
  const shared = await openSharedEngine({ ...o.shared, ...(schema !== undefined ? { schema } : {}), databaseUrl: url, log: o.shared?.log ?? ((m, e) => o.warn(`pipestate: ${m}${e ? `: ${(e as Error).message ?? e}` : ''}`)) });
  try {
    for (const [i, project] of projects.entries()) {
      try {
        await shared.ensureProject(project);
      } catch (error) {
        throw projectError(source, i, error);
      }
    }
  } catch (error) {
    await shared.close();
    throw error;
  }
  const b = shared.boot;
  const s = shared.status();
  o.log(`pipestate: shared journal ${s.storage}: booted ${b.projects} project(s), ${b.tasks} task(s), ${b.nodes} node(s)`
    + ` from ${b.checkpoint ? `the checkpoint at cursor ${b.checkpoint.seq}` : 'the start of the journal'} plus ${b.changes} change(s) in ${b.seconds.toFixed(2)} s; cursor ${s.cursor}`);
  return { engine: shared.local, shared, served: shared.httpPort() };
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
