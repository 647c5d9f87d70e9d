/**
 * `npm run bench:instances [-- --seconds 5]`: several instances on one PostgreSQL (issue 11).
 *
 * Each instance is a child process running a SharedEngine with its own load (commands in flight
 * at once, in process: no HTTP, so the figures are the command path's). Measured, in one run on
 * one fresh schema (dropped after):
 * - acknowledged commands/s with 1, 2 and 3 instances, writes spread over 64 tasks, and all on
 *   one task (the task's lock serializes them: the bound one hot task puts on a deployment);
 * - replication lag: from a command acknowledged on one instance to the change applied on
 *   another (wall clock, same machine), p50 and p99;
 * - catch-up: a new instance booting from a journal of many changes, without and with a
 *   checkpoint (changes/s);
 * - query cost: get_task_status on an instance of a shared deployment against the same answer
 *   from an in-memory engine holding the same state (ratio; both in this process).
 *
 * Set PIPESTATE_BENCH_DATABASE_URL to use another server (default: the local test database).
 * Writes bench/out/instances.json and bench/out/instances.md. `--only throughput,lag,catch-up`
 * runs some sections; `--make-journal <schema> --changes N` only writes a journal of N changes
 * (to profile a boot by hand).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createEngine, type Engine } from '../src/api/engine.js';
import { openSharedEngine, type SharedEngine } from '../src/api/shared-engine.js';
import type { JournalEntry } from '../src/store/journal/entries.js';
import type { NodeChange } from '../src/store/index.js';
import { PgJournal } from '../src/store/journal/postgres/pg-journal.js';
import { machine, machineLine } from './machine.js';

const URL_ = process.env.PIPESTATE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PROJECT = { id: '1', bk_biz_id: '2', name: 'bench', time_zone: 'UTC' };
const PIPELINE = {
  id: 'root',
  kind: 'pipeline' as const,
  children: [
    { id: 'a', kind: 'activity' as const },
    { id: 'b', kind: 'activity' as const },
  ],
};
const now = (): number => performance.timeOrigin + performance.now();

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

// ---------------------------------------------------------------------------------------------
// Child: one instance under load

interface LoadResult {
  readonly accepted: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly acks: [number, number][];
  readonly seen: [number, number][];
}

async function child(): Promise<void> {
  const schema = arg('schema', '');
  const seconds = Number(arg('seconds', '5'));
  const concurrency = Number(arg('concurrency', '16'));
  const tasks = arg('tasks', '').split(',');
  const startAt = Number(arg('start-at', '0'));
  const paced = Number(arg('paced', '0'));
  const engine = await openSharedEngine({
    databaseUrl: URL_,
    schema,
    poolSize: concurrency + 2,
    log: () => undefined,
    maintenanceMs: 1e9,
    synchronousCommit: !process.argv.includes('--async-commit'),
    groupCommit: !process.argv.includes('--no-group'),
  });
  const seen: [number, number][] = [];
  engine.on('node', (c) => seen.push([c.seq, now()]));
  process.stdout.write('ready\n');
  while (now() < startAt) await new Promise((r) => setTimeout(r, 1));
  const end = now() + seconds * 1_000;
  let accepted = 0;
  const latencies: number[] = [];
  const acks: [number, number][] = [];
  const worker = async (k: number) => {
    let i = k;
    while (now() < end) {
      const taskId = tasks[i++ % tasks.length];
      const t0 = now();
      const [c] = await engine.callback(taskId, 'a', { data: i });
      const t1 = now();
      latencies.push(t1 - t0);
      acks.push([c.seq, t1]);
      accepted++;
      if (paced > 0) await new Promise((r) => setTimeout(r, paced));
    }
  };
  const t0 = now();
  await Promise.all([...Array(concurrency)].map((_, k) => worker(k)));
  const took = (now() - t0) / 1_000;
  // let the other instances' last changes arrive before reporting what was seen
  await new Promise((r) => setTimeout(r, 300));
  const result: LoadResult = { accepted, seconds: took, latencies, acks, seen };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await engine.close();
}

// ---------------------------------------------------------------------------------------------
// Parent

function startChild(args: string[]): { ready: Promise<void>; done: Promise<LoadResult> } {
  const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  const done = new Promise<LoadResult>((resolve, reject) => {
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) readyResolve();
    });
    c.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`bench child exited ${code}`));
      else resolve(JSON.parse(line) as LoadResult);
    });
  });
  return { ready, done };
}

async function runLoad(
  schema: string,
  instances: number,
  tasks: readonly string[],
  seconds: number,
  concurrency: number,
  paced = 0,
  extra: readonly string[] = [],
): Promise<LoadResult[]> {
  // Start together: every child waits for a common moment once it has booted.
  const startAt = now() + 8_000;
  const children = [...Array(instances)].map(() =>
    startChild([
      '--schema',
      schema,
      '--seconds',
      String(seconds),
      '--concurrency',
      String(concurrency),
      '--tasks',
      tasks.join(','),
      '--start-at',
      String(startAt),
      '--paced',
      String(paced),
      ...extra,
    ]),
  );
  await Promise.all(children.map((c) => c.ready));
  return Promise.all(children.map((c) => c.done));
}

async function setupTasks(engine: SharedEngine, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = await engine.createTask({ project_id: '1', name: `b${i}`, pipeline: PIPELINE });
    await engine.start(t.id, 'root');
    await engine.start(t.id, 'a');
    ids.push(t.id);
  }
  return ids;
}

/** A journal of `changes` callbacks over `tasks` tasks, written straight to the port in large transactions. */
async function bulkJournal(schema: string, tasks: number, changes: number): Promise<void> {
  const engine = createEngine();
  const entries: JournalEntry[] = [];
  engine.on('task', (created) => {
    const view = engine.snapshot().getTask(created.taskId)!;
    entries.push({ kind: 'task', created, task: view.task, definition: view.definition });
  });
  const op = (changes: readonly NodeChange[]) => entries.push({ kind: 'nodes', changes, ended: false });
  const port = await PgJournal.open({ url: URL_, schema });
  const write = async () => {
    if (entries.length === 0) return;
    const tx = await port.begin();
    await tx.append(
      entries
        .splice(0)
        .map((entry) => ({ key: entry.kind === 'task' ? entry.task.id : entry.kind === 'nodes' ? entry.changes[0].taskId : '', entry })),
    );
    await tx.commit();
  };
  entries.push({ kind: 'project', project: Object.freeze({ id: '1', bk_biz_id: '2', name: 'bench', time_zone: 'UTC' }) });
  engine.createProject(PROJECT);
  for (let t = 1; t <= tasks; t++) {
    engine.createTask({ id: String(t), project_id: '1', name: `t${t}`, pipeline: PIPELINE });
    op(engine.start(String(t), 'root'));
    op(engine.start(String(t), 'a'));
  }
  await write();
  for (let i = 0; i < changes; i++) {
    op(engine.callback(String(1 + (i % tasks)), 'a', { data: i }));
    if (entries.length >= 5_000) await write();
  }
  await write();
  await port.close();
}

async function sqlRun(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

function timeQueries(run: () => unknown, seconds = 1): number {
  let n = 0;
  const end = performance.now() + seconds * 1_000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) run();
    n += 100;
  }
  return (seconds * 1e6) / n; // µs per query
}

async function parent(): Promise<void> {
  const seconds = Number(arg('seconds', '5'));
  const concurrency = Number(arg('concurrency', '16'));
  const m = machine();
  const lines: string[] = [
    `# Several instances on one PostgreSQL`,
    '',
    `Machine: ${machineLine(m)}; PostgreSQL on the same machine (fsync on). ` +
      `Each instance is a process; ${concurrency} commands in flight per instance; ${seconds} s per measurement.`,
    '',
  ];
  const results: Record<string, unknown> = { machine: m, seconds, concurrency };
  const schemas: string[] = [];
  const fresh = () => {
    const s = `pipestate_bench_${randomBytes(4).toString('hex')}`;
    schemas.push(s);
    return s;
  };
  const only = arg('only', 'throughput,lag,catch-up').split(',');
  try {
    // --- throughput
    if (only.includes('throughput')) {
      lines.push('## Acknowledged commands/s', '', '| instances | spread over 64 tasks | all on one task |', '|---|---|---|');
      const throughput: Record<string, unknown>[] = [];
      for (const n of [1, 2, 3]) {
        const row: Record<string, number> = { instances: n };
        for (const mode of ['spread', 'one'] as const) {
          const schema = fresh();
          const setup = await openSharedEngine({ databaseUrl: URL_, schema, poolSize: 4, log: () => undefined, maintenanceMs: 1e9 });
          await setup.ensureProject(PROJECT);
          const ids = await setupTasks(setup, mode === 'spread' ? 64 : 1);
          await setup.close();
          const r = await runLoad(schema, n, ids, seconds, concurrency);
          const rate = r.reduce((s, x) => s + x.accepted / x.seconds, 0);
          const lat = r.flatMap((x) => x.latencies);
          row[`${mode}_per_s`] = Math.round(rate);
          row[`${mode}_p50_ms`] = Number(quantile(lat, 0.5).toFixed(2));
          row[`${mode}_p99_ms`] = Number(quantile(lat, 0.99).toFixed(2));
          console.error(
            `[throughput] ${n} instance(s), ${mode}: ${Math.round(rate)}/s (p50 ${row[`${mode}_p50_ms`]} ms, p99 ${row[`${mode}_p99_ms`]} ms)`,
          );
          await sqlRun(`DROP SCHEMA "${schema}" CASCADE`);
        }
        throughput.push(row);
        lines.push(
          `| ${n} | ${row.spread_per_s}/s (ack p50 ${row.spread_p50_ms} ms, p99 ${row.spread_p99_ms} ms) | ${row.one_per_s}/s (ack p50 ${row.one_p50_ms} ms, p99 ${row.one_p99_ms} ms) |`,
        );
      }
      results.throughput = throughput;
      // One instance, spread, without group commit and with asynchronous commit: what each is worth.
      const variants: Record<string, number> = {};
      for (const [name, extra] of [
        ['a transaction per command', ['--no-group']],
        ['asynchronous commit', ['--async-commit']],
      ] as const) {
        const schema = fresh();
        const setup = await openSharedEngine({ databaseUrl: URL_, schema, poolSize: 4, log: () => undefined, maintenanceMs: 1e9 });
        await setup.ensureProject(PROJECT);
        const ids = await setupTasks(setup, 64);
        await setup.close();
        const [r] = await runLoad(schema, 1, ids, seconds, concurrency, 0, extra);
        variants[name] = Math.round(r.accepted / r.seconds);
        const p50 = quantile(r.latencies, 0.5).toFixed(2);
        lines.push(`| 1, ${name} | ${variants[name]}/s (ack p50 ${p50} ms) | |`);
        console.error(`[throughput] 1 instance, ${name}: ${variants[name]}/s (p50 ${p50} ms)`);
        await sqlRun(`DROP SCHEMA "${schema}" CASCADE`);
      }
      results.variants = variants;
    }

    // --- replication lag at a moderate rate (2 instances, each ~4 commands in flight, paced)
    if (only.includes('lag')) {
      const schema = fresh();
      const setup = await openSharedEngine({ databaseUrl: URL_, schema, poolSize: 4, log: () => undefined, maintenanceMs: 1e9 });
      await setup.ensureProject(PROJECT);
      const ids = await setupTasks(setup, 16);
      await setup.close();
      const [a, b] = await runLoad(schema, 2, ids, seconds, 4, 2);
      const lag = (from: LoadResult, to: LoadResult) => {
        const seenAt = new Map(to.seen);
        return from.acks.map(([seq, at]) => (seenAt.get(seq) ?? Number.NaN) - at).filter(Number.isFinite);
      };
      const lags = [...lag(a, b), ...lag(b, a)];
      const rate = a.accepted / a.seconds + b.accepted / b.seconds;
      results.lag = { rate: Math.round(rate), samples: lags.length, p50_ms: quantile(lags, 0.5), p99_ms: quantile(lags, 0.99) };
      lines.push(
        '',
        '## Replication lag',
        '',
        `From a command acknowledged on one instance to the change applied on the other (2 instances, ${Math.round(rate)} commands/s in all, ${lags.length} samples; negative: applied there before the writer's own answer returned):`,
        '',
        `p50 ${quantile(lags, 0.5).toFixed(2)} ms, p99 ${quantile(lags, 0.99).toFixed(2)} ms`,
      );
      console.error(`[lag] p50 ${quantile(lags, 0.5).toFixed(2)} ms, p99 ${quantile(lags, 0.99).toFixed(2)} ms`);
      await sqlRun(`DROP SCHEMA "${schema}" CASCADE`);
    }

    // --- catch-up and query cost
    if (only.includes('catch-up')) {
      const changes = Number(arg('catch-up', '200000'));
      const schema = fresh();
      await bulkJournal(schema, 100, changes);
      let t0 = performance.now();
      const booted = await openSharedEngine({ databaseUrl: URL_, schema, log: () => undefined, maintenanceMs: 1e9 });
      const plain = (performance.now() - t0) / 1_000;
      const applied = booted.boot.changes;
      const checkpoint = await booted.checkpoint();
      t0 = performance.now();
      const again = await openSharedEngine({ databaseUrl: URL_, schema, log: () => undefined, maintenanceMs: 1e9 });
      const fromCheckpoint = (performance.now() - t0) / 1_000;
      results.catchUp = {
        changes: applied,
        seconds: plain,
        perSecond: Math.round(applied / plain),
        checkpointSeconds: fromCheckpoint,
        checkpointSeq: checkpoint?.seq,
      };
      lines.push(
        '',
        '## Catch-up of a new instance',
        '',
        `${applied} journaled changes (100 tasks) replayed in ${plain.toFixed(2)} s: ${Math.round(applied / plain)} changes/s. ` +
          `Booting from a checkpoint of the same state instead: ${fromCheckpoint.toFixed(2)} s.`,
      );
      console.error(`[catch-up] ${Math.round(applied / plain)} changes/s; from a checkpoint ${fromCheckpoint.toFixed(2)} s`);

      // the same state in an in-memory engine, rebuilt from the shared one's answers is not needed: the local engine is one
      const memory: Engine = booted.local;
      const reference = createEngine();
      reference.createProject(PROJECT);
      for (let t = 1; t <= 100; t++) {
        reference.createTask({ id: String(t), project_id: '1', name: `t${t}`, pipeline: PIPELINE });
        reference.start(String(t), 'root');
        reference.start(String(t), 'a');
      }
      const q = { bk_biz_id: '2', task_id: '50' };
      const inMemory = timeQueries(() => reference.getTaskStatus(q));
      const shared = timeQueries(() => memory.getTaskStatus(q));
      let n = 0;
      const end = performance.now() + 1_000;
      while (performance.now() < end) {
        await again.getTaskStatus(q);
        n++;
      }
      const asyncShared = 1e6 / n;
      results.query = { inMemoryUs: inMemory, sharedUs: shared, sharedAsyncUs: asyncShared, ratio: shared / inMemory };
      lines.push(
        '',
        '## Query cost',
        '',
        `get_task_status of one task: in-memory engine ${inMemory.toFixed(2)} µs; an instance of a shared deployment (its working set, the same call) ${shared.toFixed(2)} µs ` +
          `(ratio ${(shared / inMemory).toFixed(2)}); through SharedEngine.getTaskStatus (async, min_cursor check, archive fallback) ${asyncShared.toFixed(2)} µs.`,
      );
      console.error(`[query] in-memory ${inMemory.toFixed(2)} µs, shared ${shared.toFixed(2)} µs, async ${asyncShared.toFixed(2)} µs`);
      await booted.close();
      await again.close();
    }
  } finally {
    for (const s of schemas) await sqlRun(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
  }
  const out = new URL('./out/', import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('instances.json', out), JSON.stringify(results, null, 2));
  writeFileSync(new URL('instances.md', out), `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

if (process.argv.includes('--child')) await child();
else if (process.argv.includes('--make-journal'))
  await bulkJournal(arg('make-journal', 'pipestate_bench'), 100, Number(arg('changes', '100000')));
else await parent();
