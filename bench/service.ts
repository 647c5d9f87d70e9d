/**
 * Section 6: the service under load, over loopback, today's code against the code before issue 8
 * (baseline.ts) in the same run. Each scenario starts a fresh server process per code tree
 * (service/server.ts), drives it from separate client processes (service/load.ts, and autocannon
 * in this process for the bulk load) and reports the two side by side, with ratios:
 *
 * 1. 10 clients reading a whole 10^4-node tree (~6,000 nodes answered, ~1.9 MB) as fast as they
 *    can, while a probe asks /healthz every 10 ms and a writer sends 150 node_events/s.
 * 2. Fan-out: node_events one after another, with 0 and with 500 watchers on the task.
 * 3. A watcher that reconnects thousands of changes behind (over 1 MiB of backlog).
 * 4. Anonymous floods: 4 senders of 1 MB bodies of 200,000 form keys or 120,000 JSON keys,
 *    while the probe asks /healthz; and the CPU one such body costs, in process.
 * 5. A 10^5-node definition (~5 MB) registered with create_task while the probe asks /healthz
 *    every 5 ms (the baseline is given a 64 MiB body limit so that it can take it at all).
 *
 * Why autocannon: it is the maintained standard load generator for Node (HTTP/1.1 keep-alive,
 * HDR histograms, pipelining), runs in-process from a script, and needs nothing outside npm.
 * Every loop here is bounded by a count or a duration; the whole section runs in about three
 * minutes (`--quick`: about one).
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { scanForm, scanJson } from '../src/api/http/credential-scan.js';
import type { BenchConfig } from './config.js';
import { check, ratio, type Check, type SectionResult, type Table } from './report.js';
import { sourceTrees, BASELINE } from './service/baseline.js';
import { APP } from './service/app.js';
import { nestedPipeline } from './trees.js';

const HERE = fileURLToPath(new URL('./service/', import.meta.url));
const TSX = ['--import', 'tsx'];

type Mode = 'before' | 'now';

interface Server {
  readonly port: number;
  /** sends a command to the server's engine; resolves with its answer */
  command(c: object): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** The child's stdout, a line at a time; rejects when the child exits before printing the next one. */
function lines(
  child: { readonly stdout: Readable; once(event: 'exit', f: (code: number | null) => void): unknown },
  what: string,
): () => Promise<string> {
  const queue: string[] = [];
  const waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let exited: Error | undefined;
  createInterface({ input: child.stdout }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w.resolve(l);
    else queue.push(l);
  });
  child.once('exit', (code) => {
    exited = new Error(`${what} exited (code ${code}) before answering`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  return () =>
    new Promise((resolve, reject) => {
      const l = queue.shift();
      if (l !== undefined) resolve(l);
      else if (exited) reject(exited);
      else waiting.push({ resolve, reject });
    });
}

async function startServer(root: string, options: object = {}): Promise<Server> {
  const child = spawn(process.execPath, [...TSX, '--max-old-space-size=4096', `${HERE}server.ts`, root, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const next = lines(child, `the server (${root})`);
  const { port } = JSON.parse(await next()) as { port: number };
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    port,
    command: async (c) => {
      child.stdin.write(`${JSON.stringify(c)}\n`);
      return JSON.parse(await next()) as Record<string, number>;
    },
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

interface Load<T> {
  /** the first line the role prints before its result (`ready`), if it prints one */
  readonly ready: Promise<string>;
  readonly result: Promise<T>;
  /** closes its stdin (the watchers report then) */
  end(): void;
}

function load<T>(role: string, args: object): Load<T> {
  const child = spawn(process.execPath, [...TSX, `${HERE}load.ts`, role, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const next = lines(child, `the ${role} client`);
  const first = next();
  const second = role === 'watchers' ? first.then(() => next()) : first;
  return { ready: first, result: second.then((l) => JSON.parse(l) as T), end: () => child.stdin.end() };
}

function percentile(ms: readonly number[], p: number): number {
  if (ms.length === 0) return NaN;
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const mean = (ms: readonly number[]): number => ms.reduce((a, b) => a + b, 0) / ms.length;
const msText = (x: number): string =>
  !Number.isFinite(x) ? '—' : x < 10 ? `${x.toFixed(2)} ms` : x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`;
const perS = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)}/s`;
/** before ÷ now, "better by": larger is better for latencies and costs */
const gain = (before: number, now: number): string =>
  Number.isFinite(before) && Number.isFinite(now) && now > 0 ? ratio(before / now) : '—';

const query = new URLSearchParams({ ...APP }).toString();

// --- 1. readers --------------------------------------------------------------------------

interface Readers {
  readonly healthz: { p50: number; p99: number; max: number; n: number };
  readonly writer: { target: number; achieved: number; refused: number; p99: number };
  readonly readers: { perSecond: number; p99: number; bytesPerSecond: number; non2xx: number; errors: number };
}

async function readers(root: string, c: BenchConfig): Promise<Readers> {
  const server = await startServer(root);
  const durationMs = c.quick ? 3_000 : 10_000;
  const rate = 150;
  try {
    const side = load<{ probe: number[]; writer: { completedInWindow: number; refused: number; ms: number[] } }>('side', {
      port: server.port,
      durationMs,
      probeEveryMs: 10,
      rate,
    });
    const cannon = await autocannon({
      url: `http://127.0.0.1:${server.port}/get_task_status/1/1/?${query}`,
      connections: 10,
      duration: durationMs / 1000,
      timeout: 30,
    });
    const { probe, writer } = await side.result;
    return {
      healthz: { p50: percentile(probe, 50), p99: percentile(probe, 99), max: Math.max(...probe), n: probe.length },
      writer: {
        target: rate,
        achieved: writer.completedInWindow / (durationMs / 1000),
        refused: writer.refused,
        p99: percentile(writer.ms, 99),
      },
      readers: {
        perSecond: cannon.requests.average,
        p99: cannon.latency.p99,
        bytesPerSecond: cannon.throughput.average,
        non2xx: cannon.non2xx,
        errors: cannon.errors + cannon.timeouts,
      },
    };
  } finally {
    await server.stop();
  }
}

// --- 2. fan-out --------------------------------------------------------------------------

interface Fanout {
  /** latencies as the writer sees them, and the server's CPU per node_event (deliveries included) */
  readonly none: { mean: number; p50: number; cpu: number };
  readonly many: {
    mean: number;
    p50: number;
    cpu: number;
    watchers: number;
    delivered: { min: number; max: number; cut: number };
    lastDeliveredAfter: number;
  };
  readonly events: number;
}

async function fanout(root: string, c: BenchConfig): Promise<Fanout> {
  const events = c.quick ? 300 : 1_000;
  const watchers = 500;
  const sequential = async (port: number) => (await load<{ ms: number[] }>('sequential', { port, n: events }).result).ms;
  const server = await startServer(root);
  try {
    const cpu = async () => (await server.command({ cpu: true })).cpuMs;
    const settle = () => new Promise((r) => setTimeout(r, 500));
    await sequential(server.port); // warm-up, no watchers
    let c0 = await cpu();
    const none = await sequential(server.port);
    const cpuNone = ((await cpu()) - c0) / events;
    const streams = load<{ min: number; max: number; cut: number; lastAt: number }>('watchers', {
      port: server.port,
      count: watchers,
      expect: events,
    });
    await streams.ready;
    await settle();
    c0 = await cpu();
    const many = await sequential(server.port);
    const written = Date.now();
    // Every watcher gets every change (or 20 s pass); their delivery counts as the events' cost.
    const giveUp = setTimeout(() => streams.end(), 20_000);
    const delivered = await streams.result;
    clearTimeout(giveUp);
    const cpuMany = ((await cpu()) - c0) / events;
    streams.end();
    return {
      none: { mean: mean(none), p50: percentile(none, 50), cpu: cpuNone },
      many: {
        mean: mean(many),
        p50: percentile(many, 50),
        cpu: cpuMany,
        watchers,
        delivered,
        lastDeliveredAfter: delivered.lastAt ? delivered.lastAt - written : NaN,
      },
      events,
    };
  } finally {
    await server.stop();
  }
}

// --- 3. resume ---------------------------------------------------------------------------

interface Resume {
  readonly behind: number;
  readonly received: number;
  readonly ms: number;
}

/** Counts the change events a reconnecting watcher receives, until `expected` or the stream ends (or 20 s). */
function resumeFrom(port: number, lastEventId: string, expected: number): Promise<{ received: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let received = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ received, ms: performance.now() - t0 });
    };
    const timer = setTimeout(done, 20_000);
    const req = request(
      `http://127.0.0.1:${port}/watch_task_status/2/1/?${query}`,
      { headers: { Accept: 'text/event-stream', 'Last-Event-ID': lastEventId } },
      (res) => {
        res.setEncoding('utf8');
        let tail = '';
        res.on('data', (chunk: string) => {
          const text = tail + chunk;
          const cut = text.lastIndexOf('\n');
          received += (text.slice(0, cut + 1).match(/^event: change$/gm) ?? []).length;
          tail = text.slice(cut + 1);
          if (received >= expected) done();
        });
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('error', done);
    req.end();
  });
}

async function resume(root: string, c: BenchConfig): Promise<Resume> {
  const behind = c.quick ? 4_000 : 9_000;
  const server = await startServer(root);
  try {
    const { cursor } = await server.command({ churn: 0 });
    await server.command({ churn: behind });
    const { received, ms } = await resumeFrom(server.port, String(cursor), behind);
    return { behind, received, ms };
  } finally {
    await server.stop();
  }
}

// --- 4. anonymous floods -----------------------------------------------------------------

interface Flood {
  readonly kind: 'form' | 'json';
  readonly healthz: { p50: number; p99: number };
  readonly perSecond: number;
}

const formBody = (keys: number): string =>
  Array.from({ length: keys }, (_, i) => `k${i}=v`)
    .join('&')
    .slice(0, 1_000_000);
const jsonBody = (keys: number): string => `{${Array.from({ length: keys }, (_, i) => `"${i.toString(36)}":1`).join(',')}}`;

async function flood(root: string, kind: 'form' | 'json', c: BenchConfig): Promise<Flood> {
  const server = await startServer(root);
  const durationMs = c.quick ? 2_000 : 5_000;
  try {
    const side = load<{ probe: number[] }>('side', { port: server.port, durationMs, probeEveryMs: 10, rate: 0 });
    const cannon = await autocannon({
      url: `http://127.0.0.1:${server.port}/operate_task/2/1/`,
      method: 'POST',
      connections: 4,
      duration: durationMs / 1000,
      timeout: 30,
      headers: { 'content-type': kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json' },
      body: kind === 'form' ? formBody(200_000) : jsonBody(120_000),
    });
    const { probe } = await side.result;
    return { kind, healthz: { p50: percentile(probe, 50), p99: percentile(probe, 99) }, perSecond: cannon.requests.average };
  } finally {
    await server.stop();
  }
}

/** CPU of refusing one anonymous body, in process: what today's intake does against parsing it whole. */
function bodyCost(kind: 'form' | 'json'): { before: number; now: number } {
  const text = kind === 'form' ? formBody(200_000) : jsonBody(120_000);
  const raw = Buffer.from(text);
  const time = (f: () => void): number => {
    const ms: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      f();
      ms.push(performance.now() - t0);
    }
    return percentile(ms, 50);
  };
  const before = time(() => {
    const t = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    if (kind === 'form')
      for (const _ of new URLSearchParams(t)) {
        /* the pairs */
      }
    else JSON.parse(t);
  });
  const now = time(() => {
    try {
      (kind === 'form' ? scanForm : scanJson)(raw);
    } catch {
      /* refused at the key limit */
    }
  });
  return { before, now };
}

// --- 5. a large definition ---------------------------------------------------------------

interface Definition {
  readonly nodes: number;
  readonly bytes: number;
  readonly create: number;
  readonly healthz: { p99: number; max: number; n: number };
  readonly refused: number;
}

function post(port: number, path: string, body: string): Promise<{ ms: number; code: number | undefined }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        let code: number | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { code: number }).code;
        } catch {
          /* no JSON */
        }
        resolve({ ms: performance.now() - t0, code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function definition(root: string, mode: Mode, c: BenchConfig): Promise<Definition> {
  const nodes = c.quick ? 3e4 : 1e5;
  const tree = nestedPipeline({ nodes, fanOut: 10, depth: 5 });
  // The baseline refuses bodies over 1 MiB; it is given 64 MiB to show what parsing one costs it.
  const server = await startServer(root, mode === 'before' ? { bodyLimitBytes: 64 << 20 } : {});
  const rounds = 3;
  try {
    const probeEveryMs = 5;
    // The baseline predates service-assigned ids (DECISIONS 2) and needs one; the service now refuses it.
    const idOf = (i: number) => (mode === 'before' ? { task_id: String(100 + i) } : {});
    const bodies = Array.from({ length: rounds }, (_, i) =>
      JSON.stringify({ ...APP, bk_biz_id: '1', ...idOf(i), name: 'huge', pipeline: tree.definition }),
    );
    const creates: number[] = [];
    let refused = 0;
    const probes: number[] = [];
    for (const body of bodies) {
      const side = load<{ probe: number[] }>('side', { port: server.port, durationMs: 1_500, probeEveryMs, rate: 0 });
      await new Promise((r) => setTimeout(r, 300)); // the probe is running
      const r = await post(server.port, '/api/c/compapi/v2/sops/create_task/', body);
      creates.push(r.ms);
      if (r.code !== 0) refused++;
      probes.push(...(await side.result).probe);
    }
    return {
      nodes,
      bytes: bodies[0].length,
      create: percentile(creates, 50),
      healthz: { p99: percentile(probes, 99), max: Math.max(...probes), n: probes.length },
      refused,
    };
  } finally {
    await server.stop();
  }
}

// --- the section -------------------------------------------------------------------------

export async function run(c: BenchConfig): Promise<SectionResult> {
  const trees = sourceTrees();
  const modes: [Mode, string][] = trees.before
    ? [
        ['before', trees.before],
        ['now', trees.now],
      ]
    : [['now', trees.now]];
  const each = async <T>(what: string, f: (root: string, mode: Mode) => Promise<T>): Promise<Partial<Record<Mode, T>>> => {
    const out: Partial<Record<Mode, T>> = {};
    for (const [mode, root] of modes) {
      process.stderr.write(`  ${what}: ${mode}\n`);
      out[mode] = await f(root, mode);
    }
    return out;
  };
  const r = await each('10 readers', (root) => readers(root, c));
  const f = await each('fan-out', (root) => fanout(root, c));
  const s = await each('resume', (root) => resume(root, c));
  const fl = await each('floods', async (root) => ({ form: await flood(root, 'form', c), json: await flood(root, 'json', c) }));
  const d = await each('definition', (root, mode) => definition(root, mode, c));
  const cost = { form: bodyCost('form'), json: bodyCost('json') };

  const label: Record<Mode, string> = { before: `before (${BASELINE})`, now: 'now' };
  const present = modes.map(([m]) => m);
  const tables: Table[] = [];
  const row = <T>(
    name: string,
    fig: Partial<Record<Mode, T>>,
    get: (x: T) => number,
    fmt: (x: number) => string,
    better: 'lower' | 'higher' = 'lower',
  ): string[] => {
    const b = fig.before ? get(fig.before) : NaN;
    const n = fig.now ? get(fig.now) : NaN;
    return [
      name,
      ...present.map((m) => fmt(m === 'before' ? b : n)),
      ...(trees.before ? [better === 'lower' ? gain(b, n) : gain(n, b)] : []),
    ];
  };
  const header = (first: string) => [first, ...present.map((m) => label[m]), ...(trees.before ? ['better by'] : [])];

  tables.push({
    caption: `10 clients reading a whole 10^4-node tree (~6,000 nodes, ~1.9 MB each), a probe and a 150/s writer (${c.quick ? 3 : 10} s)`,
    header: header('figure'),
    rows: [
      row('/healthz p50', r, (x) => x.healthz.p50, msText),
      row('/healthz p99', r, (x) => x.healthz.p99, msText),
      row('/healthz max', r, (x) => x.healthz.max, msText),
      row('node_events answered per s (of 150)', r, (x) => x.writer.achieved, perS, 'higher'),
      row('node_event p99', r, (x) => x.writer.p99, msText),
      row('whole-tree answers per s', r, (x) => x.readers.perSecond, perS, 'higher'),
      row('whole-tree answer p99', r, (x) => x.readers.p99, msText),
      row(
        'reads refused 503 (queue full)',
        r,
        (x) => x.readers.non2xx,
        (x) => String(x),
        'higher',
      ),
    ],
  });
  tables.push({
    caption: `node_event one after another (${f.now?.events ?? f.before?.events} each), with 0 and 500 watchers on the task`,
    header: header('figure'),
    rows: [
      row('server CPU per node_event, 0 watchers', f, (x) => x.none.cpu, msText),
      row('server CPU per node_event, 500 watchers', f, (x) => x.many.cpu, msText),
      row('server CPU added by 500 watchers', f, (x) => x.many.cpu - x.none.cpu, msText),
      row('latency mean, 0 watchers', f, (x) => x.none.mean, msText),
      row('latency mean, 500 watchers', f, (x) => x.many.mean, msText),
      row('latency p50, 500 watchers', f, (x) => x.many.p50, msText),
      row(
        'changes delivered to the slowest watcher',
        f,
        (x) => x.many.delivered.min,
        (x) => String(x),
        'higher',
      ),
      row('last one delivered, after the last node_event', f, (x) => x.many.lastDeliveredAfter, msText),
    ],
  });
  tables.push({
    caption: 'A watcher reconnecting with Last-Event-ID far behind',
    header: header('figure'),
    rows: [
      row(
        'changes missed',
        s,
        (x) => x.behind,
        (x) => String(x),
        'higher',
      ),
      row(
        'changes received after reconnecting',
        s,
        (x) => x.received,
        (x) => String(x),
        'higher',
      ),
      row('time to catch up (or give up)', s, (x) => x.ms, msText),
    ],
  });
  tables.push({
    caption: `Anonymous floods: 4 senders of 1 MB bodies, a probe on /healthz (${c.quick ? 2 : 5} s each)`,
    header: header('figure'),
    rows: [
      row('200,000-key form: /healthz p50', fl, (x) => x.form.healthz.p50, msText),
      row('200,000-key form: /healthz p99', fl, (x) => x.form.healthz.p99, msText),
      row('200,000-key form: bodies refused per s', fl, (x) => x.form.perSecond, perS, 'higher'),
      row('120,000-key JSON: /healthz p50', fl, (x) => x.json.healthz.p50, msText),
      row('120,000-key JSON: /healthz p99', fl, (x) => x.json.healthz.p99, msText),
      row('120,000-key JSON: bodies refused per s', fl, (x) => x.json.perSecond, perS, 'higher'),
      row('CPU to refuse one form body (in process)', { before: cost.form.before, now: cost.form.now }, (x) => x, msText),
      row('CPU to refuse one JSON body (in process)', { before: cost.json.before, now: cost.json.now }, (x) => x, msText),
    ],
  });
  tables.push({
    caption: `create_task of a ${((d.now ?? d.before)!.nodes / 1000).toFixed(0)}k-node definition (${((d.now ?? d.before)!.bytes / 1e6).toFixed(1)} MB), /healthz probed every 5 ms`,
    header: header('figure'),
    rows: [
      row('create_task answered in (median of 3)', d, (x) => x.create, msText),
      row('/healthz p99 meanwhile', d, (x) => x.healthz.p99, msText),
      row('/healthz max meanwhile', d, (x) => x.healthz.max, msText),
      row(
        'create_task refused',
        d,
        (x) => x.refused,
        (x) => String(x),
        'higher',
      ),
    ],
  });

  const now = { r: r.now!, f: f.now!, s: s.now!, d: d.now! };
  const checks: Check[] = [
    check('10 readers: /healthz p99', now.r.healthz.p99, 50, msText),
    check('10 readers: a 150/s writer keeps', now.r.writer.achieved, 140, perS, true),
    check('500 watchers add to a node_event (server CPU)', Math.max(0, now.f.many.cpu - now.f.none.cpu), 0.3, msText),
    check('every watcher got every change', now.f.many.delivered.min, now.f.events, (x) => String(x), true),
    check(`resume ${now.s.behind} changes behind: changes received`, now.s.received, now.s.behind, (x) => String(x), true),
    check('refusing an anonymous 1 MB form body costs', cost.form.now, 3, msText),
    check('refusing an anonymous 1 MB JSON body costs', cost.json.now, 3, msText),
    check('/healthz p99 while a large definition is created', now.d.healthz.p99, 50, msText),
  ];
  const notes = [
    `Loopback, one server process per code tree and scenario; the probe and writers in their own processes, the readers' and floods' autocannon in the section's. The baseline is this repository at ${BASELINE} (before issue 8), run with the same scripts in the same run${trees.before ? '' : `: not measured here, ${trees.why}`}.`,
    'The machine has 2 cores shared by the server, the load generators and, on a shared machine, other work: absolute figures move between runs; the side-by-side ratios are what carry over.',
    "Fan-out cost: the server's CPU time over the run (deliveries included, measured with process.cpuUsage) divided by the node_events, with and without 500 watchers reading in another process; the writer's latencies are shown too, and include the contention of that process for the 2 cores.",
  ];
  return {
    section: 'service',
    title: 'Service under load (loopback, today vs before issue 8)',
    tables,
    checks,
    notes,
    raw: { readers: r, fanout: f, resume: s, floods: fl, bodyCost: cost, definition: d },
  };
}
