/**
 * Arbitrary query strings and bodies against every route, in both spellings and with any method:
 * the server never answers 5xx, never logs an internal error, always answers the envelope (or the
 * metrics text, or an event stream), and a refused request leaves the store exactly as it was
 * (the same snapshot object: nothing was committed).
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/http/routes.js';
import { ALPHA, BETA, ENVELOPE_KEYS, OPS, PIPELINE, harness, type Harness } from './helpers.js';
import { runs } from '../fc-runs.js';

// A fresh server per test, made in beforeEach rather than once in beforeAll: code a beforeAll
// runs belongs to no test, and Stryker would count the engine code it reaches as static (each
// such mutant then runs the whole suite).
let h: Harness;
beforeEach(async () => {
  h = await harness({ bodyLimitBytes: 16 * 1024 });
});
afterEach(async () => {
  await h.close();
});

const READ_ONLY: ReadonlySet<string> = new Set([
  'get_task_status',
  'get_tasks_status',
  'get_task_node_detail',
  'get_task_summary',
  'get_task_list',
  'get_task_nodes',
  'watch_task_status',
  'healthz',
  'metrics',
]);
/** get_task_list answers bk-sops' `count` beside `data` */
const LIST_KEYS = [...ENVELOPE_KEYS.slice(0, 2), 'count', ...ENVELOPE_KEYS.slice(2)];

interface Outcome {
  readonly status: number;
  readonly type: string;
  readonly text: string;
}

/** Sends and reads the answer; an event stream is closed as soon as its headers arrive. */
function exchange(method: string, path: string, body: string | undefined, contentType?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      ...(contentType ? { 'Content-Type': contentType } : {}),
      // node's client frames no body on GET by default; say how long it is, as real clients do
      ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
    };
    const req = request(`${h.base}${path}`, { method, headers }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('text/event-stream')) {
        res.on('error', () => {});
        req.destroy();
        resolve({ status: res.statusCode ?? 0, type, text: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Paths: every route in both spellings, with ids that exist, belong elsewhere, or are not ids.
const id = fc.constantFrom('10', '30', '99', '2', '4', '1', '3', '0', 'x', '10a', '00000000000000000000000000000000000000');
const routePath = fc.oneof(
  ...ROUTES.flatMap((r) => [
    ...(r.esb ? [fc.constant(`/api/c/compapi/v2/sops/${r.name}/`)] : []),
    ...(r.gateway ? [fc.tuple(...r.gateway.params.map(() => id)).map((ids) => `/${r.name}/${ids.join('/')}/`)] : []),
    ...(r.fixed ? [fc.constant(`/${r.fixed.path}`)] : []),
  ]),
  fc.constantFrom('/', '/api/c/compapi/v2/sops/', '/get_task_status/', '/unknown/10/2/'),
);
const method = fc.constantFrom('GET', 'POST', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');

const fieldName = fc.constantFrom(
  'bk_biz_id',
  'task_id',
  'node_id',
  'subprocess_id',
  'action',
  'scope',
  'with_ex_data',
  'task_id_list',
  'include_children_status',
  'event',
  'ex_data',
  'version',
  'pipeline',
  'name',
  'data',
  'bk_username',
  'bk_app_code',
  'last_event_id',
  '__proto__',
  'constructor',
  'toString',
  'keyword',
  'is_started',
  'is_finished',
  'root_state',
  'limit',
  'offset',
  'without_count',
  'expected_timezone',
);
const meaningful = fc.constantFrom(
  '2',
  '4',
  '1',
  '3',
  '10',
  '30',
  '99',
  'root',
  'a',
  'sub',
  'sub2',
  'c',
  'd',
  'nope',
  'pause',
  'resume',
  'revoke',
  'retry',
  'skip',
  'forced_fail',
  'callback',
  'start',
  'finish',
  'fail',
  'reenter',
  'project',
  'cmdb_biz',
  'true',
  'false',
  '1',
  '0',
  '',
  'RUNNING',
  'FAILED,CREATED',
  'UTC',
  'Asia/Shanghai',
  '5000',
  '-1',
);
const jsonValue = fc.oneof(meaningful, fc.jsonValue({ maxDepth: 3 }), fc.constant(PIPELINE), fc.array(meaningful, { maxLength: 4 }));
const credentials = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Record<string, string>>(ALPHA) },
  { weight: 2, arbitrary: fc.constant<Record<string, string>>(OPS) },
  { weight: 1, arbitrary: fc.constant<Record<string, string>>(BETA) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('bk_app_code', 'bk_app_secret', 'bk_username'), fc.string({ maxLength: 12 })) },
);

// Raw query text over the characters a URL may carry, with the tokens that trip parsers.
const queryChar = fc.constantFrom(..."abcdefgz0129_-.~!$&'()*+,;=:@/?%[]".split(''));
const rawQuery = fc
  .array(
    fc.oneof(
      fc.string({ unit: queryChar, maxLength: 8 }),
      fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '&&', '==', 'task_id_list=', 'task_id=10', 'bk_biz_id=2', '__proto__=1', '+'),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(''));

function check(route: string, m: string, o: Outcome, before: unknown): void {
  expect(o.status, `${m} ${route}: ${o.text}`).toBeLessThan(500);
  if (o.type.startsWith('text/event-stream')) {
    expect(o.status).toBe(200);
  } else if (route === '/metrics' && m === 'GET') {
    expect(o.type).toMatch(/^text\/plain/);
  } else {
    expect(o.type).toMatch(/^application\/json/);
    const env = JSON.parse(o.text) as Record<string, unknown>;
    expect(Object.keys(env)).toEqual(env.result === true && route.includes('get_task_list') ? LIST_KEYS : ENVELOPE_KEYS);
    expect(typeof env.result).toBe('boolean');
    if (env.result === false) {
      expect(env.data).toBeNull();
      expect(typeof env.message).toBe('string');
      expect(h.engine.snapshot(), `refused ${m} ${route} changed the store: ${o.text}`).toBe(before);
    }
  }
  const name =
    route
      .split('/')
      .filter((s) => s !== '')
      .at(-1) ?? '';
  if (READ_ONLY.has(name) || READ_ONLY.has(route.split('/')[1] ?? '')) expect(h.engine.snapshot()).toBe(before);
  expect(h.logged).toEqual([]);
}

describe('fuzz: every route', () => {
  it('arbitrary structured parameters in the query string', async () => {
    await fc.assert(
      fc.asyncProperty(
        routePath,
        method,
        credentials,
        fc.dictionary(fieldName, fc.oneof(meaningful, fc.string({ maxLength: 12 })), { maxKeys: 6 }),
        async (route, m, creds, params) => {
          const before = h.engine.snapshot();
          const query = new URLSearchParams({ ...creds, ...params }).toString();
          check(route, m, await exchange(m, `${route}?${query}`, undefined), before);
        },
      ),
      { numRuns: runs('httpFuzz') },
    );
  });

  it('arbitrary raw query strings', async () => {
    await fc.assert(
      fc.asyncProperty(routePath, method, rawQuery, async (route, m, query) => {
        const before = h.engine.snapshot();
        check(route, m, await exchange(m, `${route}?${new URLSearchParams(ALPHA).toString()}&${query}`, undefined), before);
      }),
      { numRuns: runs('httpFuzz') },
    );
  });

  it('arbitrary JSON bodies, objects or not', async () => {
    const body = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(credentials, fc.dictionary(fieldName, jsonValue, { maxKeys: 7 }))
          .map(([c, p]) => JSON.stringify({ ...c, ...p })),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    );
    await fc.assert(
      fc.asyncProperty(routePath, fc.constantFrom('POST', 'POST', 'GET', 'PUT'), body, async (route, m, text) => {
        const before = h.engine.snapshot();
        check(route, m, await exchange(m, route, text, 'application/json'), before);
      }),
      { numRuns: runs('httpFuzz') },
    );
  });

  it('arbitrary body bytes and content types', async () => {
    const bytes = fc.oneof(
      fc.string({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.constantFrom('{', '{"a":', '[]', 'null', '\u0000', '{"pad":"' + 'x'.repeat(20_000) + '"}'),
    );
    const type = fc.constantFrom(
      undefined,
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    );
    await fc.assert(
      fc.asyncProperty(routePath, bytes, type, async (route, text, contentType) => {
        const before = h.engine.snapshot();
        check(route, 'POST', await exchange('POST', `${route}?${new URLSearchParams(ALPHA).toString()}`, text, contentType), before);
      }),
      { numRuns: runs('httpFuzzBytes') },
    );
  });

  it('the server is still up and answering afterwards', async () => {
    const o = await exchange('GET', '/healthz', undefined);
    expect(JSON.parse(o.text)).toMatchObject({ result: true, data: { status: 'ok' } });
  });
});
