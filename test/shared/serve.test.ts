/**
 * `pipestate serve --postgres` (issue 11), in process: two services on one database answer for
 * every task, commands answer with global cursors, a query naming another instance's cursor
 * reflects it, a watch resumes on the other instance, and a database that cannot be reached
 * refuses the start, naming the URL without its password.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../../src/cli/serve.js';
import { JournalError } from '../../src/store/journal/index.js';
import { DATABASE_URL, dropSchema, newSchemaName, requirePostgres } from './pg.js';

const schema = newSchemaName();
const dir = mkdtempSync(join(tmpdir(), 'pipestate-serve-'));
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ projects: [{ id: '1', bk_biz_id: '2', name: 'ops', time_zone: 'UTC' }] }));

const PIPELINE = {
  id: 'root',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    { id: 'b', kind: 'activity' },
  ],
};
const services: Service[] = [];
const lines: string[] = [];

async function serve(): Promise<Service> {
  const s = await startService({
    port: 0,
    host: '127.0.0.1',
    configPath: config,
    noAuth: true,
    env: {},
    log: (l) => lines.push(l),
    warn: () => undefined,
    databaseUrl: DATABASE_URL,
    shared: { schema, poolSize: 3 },
  });
  services.push(s);
  return s;
}

async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: a service answer read field by field, as the test checks it
): Promise<{ json: Record<string, any>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a service answer read field by field, as the test checks it
  return { json: (await res.json()) as Record<string, any>, headers: res.headers };
}

async function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: a service answer read field by field, as the test checks it
): Promise<{ json: Record<string, any>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: a service answer read field by field, as the test checks it
  return { json: (await res.json()) as Record<string, any>, headers: res.headers };
}

beforeAll(requirePostgres);

// Each test starts and closes its own services: one left running between tests runs its polls
// and timers outside any test (a mutation run then re-runs every test for each mutant they
// reach), and a test that used another's services failed when run alone.
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
});

afterAll(async () => {
  await dropSchema(schema);
});

describe('pipestate serve --postgres', () => {
  it('two instances: a command on one, read back on the other with its cursor', async () => {
    const a = await serve();
    const b = await serve();
    expect(lines.some((l) => /shared journal .*\(schema pipestate_t_/.test(l) && /booted 1 project/.test(l))).toBe(true);

    await a.shared!.createTask({ id: '77', project_id: '1', name: 'deploy', pipeline: PIPELINE as never });
    const started = await post(b.url, '/node_event/77/2/', { node_id: 'root', event: 'start' });
    expect(started.json).toMatchObject({ result: true, data: { state: 'RUNNING' } });
    const cursor = started.json.data.cursor as number;
    const paused = await post(a.url, '/operate_task/77/2/', { action: 'pause' });
    expect(paused.json).toMatchObject({ result: true, data: { action: 'pause', cursor: cursor + 1 } });
    const resumed = await post(b.url, '/operate_task/77/2/', { action: 'resume' });
    expect(resumed.json).toMatchObject({ result: true, data: { action: 'resume', cursor: cursor + 2 } });

    const read = await get(a.url, '/get_task_status/77/2/', { 'X-Pipestate-Min-Cursor': String(cursor + 2) });
    expect(read.json.data.state).toBe('RUNNING');
    expect(Number(read.headers.get('x-pipestate-cursor'))).toBeGreaterThanOrEqual(cursor + 2);
    const viaParam = await get(a.url, `/get_task_status/77/2/?min_cursor=${cursor + 2}`);
    expect(viaParam.json.data).toEqual(read.json.data);
    const health = await get(b.url, '/healthz');
    expect(health.json.data).toMatchObject({ status: 'ok', storage: expect.stringMatching(/^postgres:.*\(schema pipestate_t_/) });

    // the same node started twice, once on each instance: the second is refused as in process
    const again = await post(a.url, '/node_event/77/2/', { node_id: 'root', event: 'start' });
    expect(again.json).toMatchObject({ result: false, code: 3545000 });
    const malformed = await get(a.url, '/get_task_status/77/2/', { 'X-Pipestate-Min-Cursor': 'latest' });
    expect(malformed.json).toMatchObject({ result: false, code: 3540000 });
  });

  it('a watch resumed on another instance continues from its cursor', async () => {
    const a = await serve();
    const b = await serve();
    await a.shared!.createTask({ id: '78', project_id: '1', name: 'watch', pipeline: PIPELINE as never });
    const first = await post(a.url, '/node_event/78/2/', { node_id: 'root', event: 'start' });
    const from = first.json.data.cursor as number;
    await post(a.url, '/node_event/78/2/', { node_id: 'a', event: 'start' });
    const last = await post(a.url, '/node_event/78/2/', { node_id: 'a', event: 'finish' });
    const controller = new AbortController();
    const res = await fetch(`${b.url}/watch_task_status/78/2/`, { headers: { 'Last-Event-ID': String(from) }, signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(`id: ${last.json.data.cursor}\n`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([from + 1, last.json.data.cursor]);
    expect(text).not.toMatch(/event: reset/);
  });

  it('refuses a configured project that differs from the one the database holds, and a data directory beside a database', async () => {
    await serve(); // the database now holds project 1 as configured ("ops")
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ projects: [{ id: '1', bk_biz_id: '2', name: 'renamed', time_zone: 'UTC' }] }));
    const started = startService({
      port: 0,
      host: '127.0.0.1',
      configPath: other,
      noAuth: true,
      env: {},
      log: () => undefined,
      warn: () => undefined,
      databaseUrl: DATABASE_URL,
      shared: { schema },
    });
    await expect(started).rejects.toThrow(
      /projects\[0\]: project 1 in postgres:.* is .*"name":"ops".*; a registered project cannot change/,
    );
    const both = startService({
      port: 0,
      host: '127.0.0.1',
      configPath: config,
      noAuth: true,
      env: {},
      log: () => undefined,
      warn: () => undefined,
      databaseUrl: DATABASE_URL,
      dataDir: dir,
    });
    await expect(both).rejects.toThrow(/pass --data or --postgres, not both/);
  });

  it('refuses to start when the database cannot be reached, naming the URL without its password', async () => {
    const url = 'postgres://pipestate:s3cret@127.0.0.1:1/nowhere';
    const started = startService({
      port: 0,
      host: '127.0.0.1',
      configPath: config,
      noAuth: true,
      env: {},
      log: () => undefined,
      warn: () => undefined,
      databaseUrl: url,
    });
    await expect(started).rejects.toBeInstanceOf(JournalError);
    const error = await started.then(
      () => new Error('started'),
      (e: Error) => e,
    );
    expect(error.message).toContain('postgres://pipestate:***@127.0.0.1:1/nowhere');
    expect(error.message).toMatch(/refused the connection/);
    expect(error.message).not.toContain('s3cret');
  });
});
