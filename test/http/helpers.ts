/**
 * A real server on an ephemeral loopback port over a real engine, and a small client that sends
 * exactly the bytes a test asks for (raw query strings, malformed bodies) and reads the answer.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEngine, type Engine } from '../../src/api/engine.js';
import type { AppConfig } from '../../src/api/http/config.js';
import type { Logger } from '../../src/api/http/handler.js';
import { createServer, type PipestateServer, type ServerOptions } from '../../src/api/http/server.js';
import type { NodeDefinition } from '../../src/model/index.js';

export const APPS: readonly AppConfig[] = [
  { bk_app_code: 'alpha', bk_app_secret: 'alpha-secret', projects: ['1'] },
  { bk_app_code: 'beta', bk_app_secret: 'beta-secret', projects: ['3'] },
  { bk_app_code: 'ops', bk_app_secret: 'ops-secret', projects: '*' },
];

/** Credentials as ESB parameters. */
export const ALPHA = { bk_app_code: 'alpha', bk_app_secret: 'alpha-secret', bk_username: 'alice' } as const;
export const BETA = { bk_app_code: 'beta', bk_app_secret: 'beta-secret', bk_username: 'bob' } as const;
export const OPS = { bk_app_code: 'ops', bk_app_secret: 'ops-secret', bk_username: 'olga' } as const;

/** Project 1 is bound to business 2; project 3 to business 4. */
export const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  name: 'pipeline',
  children: [
    { id: 'a', kind: 'activity', name: 'A' },
    {
      id: 'sub',
      kind: 'subprocess',
      name: 'Sub',
      children: [
        { id: 'b', kind: 'activity', name: 'B' },
        { id: 'sub2', kind: 'subprocess', name: 'Sub 2', children: [{ id: 'c', kind: 'activity', name: 'C' }] },
      ],
    },
    { id: 'd', kind: 'activity', name: 'D' },
  ],
};

export interface Harness {
  readonly engine: Engine;
  readonly server: PipestateServer;
  readonly base: string;
  readonly logged: unknown[];
  close(): Promise<void>;
}

/** Engine with projects 1 (biz 2) and 3 (biz 4), tasks 10 (project 1) and 30 (project 3), and a server. */
export async function harness(options: ServerOptions = {}, engine: Engine = seededEngine()): Promise<Harness> {
  const logged: unknown[] = [];
  const logger: Logger = { error: (message, error) => logged.push({ message, error }) };
  const server = createServer(engine, { apps: APPS, logger, ...options });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    engine,
    server,
    base: `http://127.0.0.1:${port}`,
    logged,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function seededEngine(): Engine {
  let now = Date.UTC(2024, 0, 1, 4, 0, 0);
  const engine = createEngine({ clock: () => (now += 1000) });
  engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
  engine.createProject({ id: '3', bk_biz_id: '4', name: 'three' });
  engine.createTask({ id: '10', project_id: '1', name: 'task ten', pipeline: PIPELINE });
  engine.createTask({ id: '30', project_id: '3', name: 'task thirty', pipeline: PIPELINE });
  return engine;
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** the parsed body, when it is JSON */
  readonly json: Record<string, unknown> | undefined;
}

export interface Send {
  /** raw query string, without "?" */
  readonly query?: string;
  /** an object is sent as JSON; a string or Buffer as is */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export const qs = (params: Readonly<Record<string, string>>): string => new URLSearchParams(params).toString();

export function send(base: string, method: string, path: string, s: Send = {}): Promise<Reply> {
  const url = `${base}${path}${s.query !== undefined ? `?${s.query}` : ''}`;
  const body = s.body === undefined ? undefined : typeof s.body === 'string' || Buffer.isBuffer(s.body) ? s.body : JSON.stringify(s.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...s.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const ESB = (name: string): string => `/api/c/compapi/v2/sops/${name}/`;

/** The keys of a §3.5 envelope, in order. */
export const ENVELOPE_KEYS = ['result', 'data', 'code', 'message', 'request_id', 'trace_id'];
