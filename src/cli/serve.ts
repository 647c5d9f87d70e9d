/**
 * `pipestate serve`: the HTTP service over a fresh in-memory engine, configured from one JSON
 * file. Listens on loopback unless told otherwise; says loudly when authentication is off.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../api/engine.js';
import { ConfigError, ENV, resolveConfig, type ServiceConfig, type ServiceLimits } from '../api/http/config.js';
import { createServer, type PipestateServer, type ServerOptions } from '../api/http/server.js';
import { PipestateError } from '../model/index.js';

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
  readonly env: Readonly<Record<string, string | undefined>>;
  /** status lines (stdout) */
  readonly log: (line: string) => void;
  /** warnings (stderr) */
  readonly warn: (line: string) => void;
  readonly server?: Omit<ServerOptions, 'apps' | 'noAuth'>;
  /** from the command line; each overrides the configuration file's */
  readonly limits?: ServiceLimits;
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
  readonly engine: Engine;
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
  let engine: Engine;
  try {
    engine = createEngine({ quotas: config.quotas, taskUrl: config.task_url });
  } catch (error) {
    if (error instanceof PipestateError) throw new ConfigError(`${source}: task_url: ${error.message}`);
    throw error;
  }
  for (const [i, project] of config.projects.entries()) {
    try {
      engine.createProject(project);
    } catch (error) {
      if (error instanceof PipestateError) throw new ConfigError(`${source}: projects[${i}]: ${error.message}`);
      throw error;
    }
  }
  if (!o.noAuth && config.apps.length === 0) {
    throw new ConfigError(`no apps configured: add "apps" to ${source}, set ${ENV.appCode} and ${ENV.appSecret}, or pass --no-auth for local use`);
  }
  const server = createServer(engine, { ...o.server, ...limitOptions({ ...config.limits, ...o.limits }), apps: config.apps, noAuth: o.noAuth, ...(o.noUi ? {} : { ui: { dir: UI_DIR } }) });
  server.listen(o.port, o.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e; })]);
  } catch (error) {
    server.close();
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
    engine, server, config, url, uiUrl,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
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
