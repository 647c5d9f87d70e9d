/**
 * Section "durability": what the journal costs, measured against the in-memory engine in the
 * same run.
 *
 * - Per change: the synchronous part (apply + hand to the journal) and the whole (until durable),
 *   for a run of changes applied back to back.
 * - Sustained acknowledged changes/s: many concurrent clients, each applying one change and
 *   awaiting whenDurable before the next (what an HTTP command does, minus HTTP), per mode.
 * - Acknowledgment latency at a fixed 5,000 changes/s (open loop), and the event loop's p99
 *   delay meanwhile: the loop must never wait on an fsync.
 * - Recovery of 10^6 journaled changes (a crash image: no checkpoint at the end), and from a
 *   checkpoint.
 * - Checkpoint of a 10^6-node task driven 60% through: time and size.
 *
 * The workload: tasks of 100 nodes driven through their whole frontier pass (starts, finishes,
 * failures retried or skipped, revokes), a new task created when one is done.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createEngine, type Engine } from '../src/api/engine.js';
import { openEngine, type DurableEngine } from '../src/api/durable-engine.js';
import { MACHINE_OPERATIONS, type Operation } from '../src/lifecycle/index.js';
import type { DurabilityMode } from '../src/store/journal/index.js';
import { median } from './measure.js';
import { bytes, check, ns, progress, ratio, type Check, type SectionResult } from './report.js';
import { shapeOf, type BenchConfig } from './config.js';
import { nestedPipeline } from './trees.js';
import { frontierPrefix } from './workloads.js';

const NAMES = MACHINE_OPERATIONS as readonly Operation[];
const MODES: readonly DurabilityMode[] = ['always', 'batch', 'off'];
const root = mkdtempSync(join(tmpdir(), 'pipestate-bench-durability-'));
let dirs = 0;
const newDir = (): string => join(root, `d${++dirs}`);
const dirBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const newDirMade = (): string => {
  const d = newDir();
  mkdirSync(d, { recursive: true });
  return d;
};

/** An endless stream of changes: tasks of 100 nodes, each driven through its whole pass. */
class Changes {
  private readonly tree = nestedPipeline({ nodes: 100, fanOut: 2, depth: 4 });
  private readonly pass = frontierPrefix(this.tree.flat, 1);
  private task = 0;
  private step = this.pass.ids.length;

  /** `prefix`: digits that start every task id it creates */
  constructor(
    private readonly engine: Engine,
    private readonly prefix: string,
  ) {}

  /** Applies the next change; returns its seq. */
  next(): number {
    if (this.step === this.pass.ids.length) {
      this.engine.createTask({ id: `${this.prefix}${++this.task}`, project_id: '1', name: 'bench', pipeline: this.tree.definition });
      this.step = 0;
      return this.engine.cursor;
    }
    const j = this.step++;
    const changes = this.engine.apply(`${this.prefix}${this.task}`, this.pass.ids[j], NAMES[this.pass.ops[j]]);
    return changes[changes.length - 1].seq;
  }
}

async function engineFor(mode: DurabilityMode | 'memory', extra: { checkpointEvery?: number; dataDir?: string } = {}): Promise<Engine> {
  const engine =
    mode === 'memory'
      ? createEngine({ rerunLimit: 1e9 })
      : await openEngine({
          dataDir: extra.dataDir ?? newDir(),
          durability: mode,
          rerunLimit: 1e9,
          log: (m, e) => console.error(m, e),
          checkpoint: { every: extra.checkpointEvery ?? 1e9 },
        });
  engine.createProject({ id: '1', bk_biz_id: '1', name: 'bench' });
  return engine;
}

interface Throughput {
  readonly mode: string;
  /** ns per change, synchronous part (apply + journal hand-off) */
  readonly syncNs: number;
  /** ns per change until all are durable */
  readonly durableNs: number;
  /** acknowledged changes/s with `clients` concurrent clients */
  readonly ackPerSec: number;
  readonly loopP99Ms: number;
}

const CLIENTS = 1_024;

async function throughput(mode: DurabilityMode | 'memory', config: BenchConfig): Promise<Throughput> {
  const engine = await engineFor(mode);
  const changes = new Changes(engine, '1');
  // Back to back: the synchronous part, then until durable.
  const n = config.quick ? 20_000 : 200_000;
  for (let i = 0; i < 2_000; i++) changes.next(); // warm-up
  await engine.durable();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) changes.next();
  const t1 = performance.now();
  await engine.durable();
  const t2 = performance.now();
  // Closed loop: each client applies a change and waits for its acknowledgment.
  const seconds = config.quick ? 1 : 4;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let acked = 0;
  let stop = false;
  const client = async () => {
    for (let mine = 1; !stop; mine++) {
      await engine.whenDurable(changes.next());
      acked++;
      // An in-memory engine acknowledges in a microtask: every client yields now and then, so the
      // microtask queue drains and the timer can stop the run.
      if (mode === 'memory' && mine % 64 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  loop.enable();
  const start = performance.now();
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1000);
  await Promise.all(Array.from({ length: CLIENTS }, client));
  clearTimeout(timer);
  const elapsed = (performance.now() - start) / 1000;
  loop.disable();
  await engine.close();
  return {
    mode,
    syncNs: ((t1 - t0) * 1e6) / n,
    durableNs: ((t2 - t0) * 1e6) / n,
    ackPerSec: acked / elapsed,
    loopP99Ms: loop.percentile(99) / 1e6,
  };
}

interface Latency {
  readonly mode: string;
  readonly rate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
}

/** Open loop at a fixed rate: changes are issued on schedule whatever the acknowledgments do. */
async function latency(mode: DurabilityMode, rate: number, config: BenchConfig): Promise<Latency> {
  const engine = await engineFor(mode);
  const changes = new Changes(engine, '2');
  const seconds = config.quick ? 1 : 5;
  const total = rate * seconds;
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const start = performance.now();
  let issued = 0;
  const waits: Promise<void>[] = [];
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; issued < due; issued++) {
      const at = performance.now();
      waits.push(
        engine.whenDurable(changes.next()).then(() => {
          latencies.push(performance.now() - at);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(waits);
  loop.disable();
  await engine.close();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    mode,
    rate,
    p50Ms: median(sorted),
    p99Ms: sorted[Math.floor(sorted.length * 0.99)],
    maxMs: sorted[sorted.length - 1],
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
  };
}

/**
 * The disk's own fsync: one small SQLite commit with synchronous=FULL at a time, as the journal's
 * thread makes them. No acknowledgment can come sooner than this; its tail is the latency's floor.
 */
function fsyncBaseline(commits: number): { p50Ms: number; p99Ms: number; maxMs: number } {
  const dir = newDirMade();
  const db = new Database(join(dir, 'fsync.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (body BLOB)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  const times: number[] = [];
  for (let i = 0; i < commits; i++) {
    const t0 = performance.now();
    insert.run(Buffer.alloc(4096));
    times.push(performance.now() - t0);
  }
  db.close();
  times.sort((a, b) => a - b);
  return { p50Ms: median(times), p99Ms: times[Math.floor(times.length * 0.99)], maxMs: times[times.length - 1] };
}

interface Recovery {
  readonly changes: number;
  readonly journalBytes: number;
  readonly fromJournalS: number;
  readonly fromCheckpointS: number;
  readonly checkpointBytes: number;
}

/** 10^6 changes journaled, then recovered from a crash image (the tail alone) and after a clean close (a checkpoint). */
async function recovery(config: BenchConfig): Promise<Recovery> {
  const target = config.quick ? 100_000 : 1_000_000;
  const dataDir = newDir();
  const engine = await engineFor('off', { dataDir });
  const changes = new Changes(engine, '3');
  progress(`journaling ${target.toLocaleString('en-US')} changes`);
  while (engine.cursor < target) {
    for (let i = 0; i < 10_000; i++) changes.next();
    await engine.durable();
  }
  const crashed = newDir();
  cpSync(dataDir, crashed, { recursive: true });
  await engine.close();
  progress('recovering the crash image');
  const fromJournal = recoverElsewhere(crashed);
  if (fromJournal.seq < target) throw new Error(`recovered ${fromJournal.seq} of ${target} changes`);
  progress('recovering the checkpoint');
  const fromCheckpoint = recoverElsewhere(dataDir);
  return {
    changes: fromJournal.changes,
    journalBytes: dirBytes(crashed),
    fromJournalS: fromJournal.openS,
    fromCheckpointS: fromCheckpoint.openS,
    checkpointBytes: checkpointBytesIn(dataDir),
  };
}

/** The bytes of the checkpoint a data directory holds (its parts' bodies). */
function checkpointBytesIn(dataDir: string): number {
  const db = new Database(join(dataDir, 'pipestate.db'), { readonly: true });
  try {
    return Number(db.prepare('SELECT sum(length(body)) FROM checkpoint_part').pluck().get());
  } finally {
    db.close();
  }
}

/** Recovery as a restart does it: a fresh process opens the directory (bench/recover.ts). */
function recoverElsewhere(dataDir: string): { seconds: number; openS: number; changes: number; seq: number } {
  const child = spawnSync(
    process.execPath,
    ['--max-old-space-size=12288', '--import', 'tsx', fileURLToPath(new URL('./recover.ts', import.meta.url)), dataDir],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`recovery of ${dataDir} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as { seconds: number; openS: number; changes: number; seq: number };
}

interface BigCheckpoint {
  readonly nodes: number;
  readonly driven: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly parts: number;
  readonly loopMaxMs: number;
  readonly recoverS: number;
}

/** One 10^6-node task, 60% through its pass: a checkpoint of it, and recovery from that checkpoint. */
async function bigCheckpoint(config: BenchConfig): Promise<BigCheckpoint> {
  const nodes = config.quick ? 1e5 : 1e6;
  const tree = nestedPipeline(shapeOf(nodes));
  const dataDir = newDir();
  const engine = (await engineFor('off', { dataDir })) as DurableEngine;
  engine.createTask({ id: '1', project_id: '1', name: 'big', pipeline: tree.definition });
  const p = frontierPrefix(tree.flat, 0.6);
  for (let j = 0; j < p.ids.length; j++) {
    engine.apply('1', p.ids[j], NAMES[p.ops[j]]);
    // the journal refuses changes beyond 200,000 not yet durable: let it keep up
    if (j % 50_000 === 0) await engine.durable();
  }
  await engine.durable();
  progress(`checkpoint of a ${nodes.toLocaleString('en-US')}-node task`);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const report = (await engine.checkpoint())!;
  loop.disable();
  await engine.close();
  const size = checkpointBytesIn(dataDir);
  const recoverS = recoverElsewhere(dataDir).openS;
  return { nodes, driven: p.ids.length, seconds: report.seconds, bytes: size, parts: report.parts, loopMaxMs: loop.max / 1e6, recoverS };
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  try {
    const rows: Throughput[] = [];
    for (const mode of ['memory', ...MODES] as const) {
      rows.push(await throughput(mode, config));
      const r = rows[rows.length - 1];
      progress(
        `${mode}: ${ns(r.syncNs)} sync, ${ns(r.durableNs)} to durable, ${Math.round(r.ackPerSec)} ack/s, loop p99 ${r.loopP99Ms.toFixed(1)} ms`,
      );
    }
    const fsync = fsyncBaseline(config.quick ? 200 : 1_000);
    progress(`fsync: p50 ${fsync.p50Ms.toFixed(2)} ms, p99 ${fsync.p99Ms.toFixed(2)} ms`);
    const lat: Latency[] = [];
    for (const mode of MODES) {
      lat.push(await latency(mode, 5_000, config));
      const l = lat[lat.length - 1];
      progress(`${mode} at 5,000/s: p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, loop p99 ${l.loopP99Ms.toFixed(1)} ms`);
    }
    const rec = await recovery(config);
    progress(`recovery: ${rec.fromJournalS.toFixed(2)} s from the journal, ${rec.fromCheckpointS.toFixed(2)} s from a checkpoint`);
    const big = await bigCheckpoint(config);
    progress(`checkpoint: ${big.seconds.toFixed(2)} s, ${bytes(big.bytes)}`);

    const memory = rows[0];
    const batch = rows.find((r) => r.mode === 'batch')!;
    const batchLat = lat.find((l) => l.mode === 'batch')!;
    const checks: Check[] = [
      check('batch: acknowledged changes/s', batch.ackPerSec, 50_000, (x) => `${Math.round(x).toLocaleString('en-US')}/s`, true),
      check('batch at 5,000 changes/s: p99 acknowledgment', batchLat.p99Ms, 15, (x) => `${x.toFixed(1)} ms`),
      check(
        `recovery of ${rec.changes.toLocaleString('en-US')} journaled changes`,
        rec.fromJournalS,
        config.quick ? 1 : 10,
        (x) => `${x.toFixed(2)} s`,
      ),
      // The loop never waits on an fsync: its delay under write load stays under one fsync's tail.
      check(
        'batch at 5,000 changes/s: event loop p99 under the fsync p99 of the same run',
        batchLat.loopP99Ms,
        fsync.p99Ms,
        (x) => `${x.toFixed(1)} ms`,
      ),
    ];
    return {
      section: 'durability',
      title: 'Durability: the journal against the in-memory engine',
      tables: [
        {
          caption: `Per change and sustained (${CLIENTS} clients, each awaiting its acknowledgment)`,
          header: ['engine', 'apply (sync part)', '× memory', 'until durable', 'acknowledged/s', '÷ memory', 'event loop p99'],
          rows: rows.map((r) => [
            r.mode === 'memory' ? 'in memory' : `journal, ${r.mode}`,
            ns(r.syncNs),
            ratio(r.syncNs / memory.syncNs),
            ns(r.durableNs),
            Math.round(r.ackPerSec).toLocaleString('en-US'),
            ratio(r.ackPerSec / memory.ackPerSec),
            // in memory an acknowledgment is a microtask: the clients themselves keep the loop busy, which says nothing
            r.mode === 'memory' ? '—' : `${r.loopP99Ms.toFixed(1)} ms`,
          ]),
        },
        {
          caption: 'Acknowledgment latency at 5,000 changes/s (open loop)',
          header: ['mode', 'p50', 'p99', 'max', 'event loop p99', 'event loop max'],
          rows: [
            ...lat.map((l) => [
              l.mode,
              `${l.p50Ms.toFixed(2)} ms`,
              `${l.p99Ms.toFixed(2)} ms`,
              `${l.maxMs.toFixed(1)} ms`,
              `${l.loopP99Ms.toFixed(1)} ms`,
              `${l.loopMaxMs.toFixed(1)} ms`,
            ]),
            [
              '(baseline: one SQLite commit with its fsync, nothing else)',
              `${fsync.p50Ms.toFixed(2)} ms`,
              `${fsync.p99Ms.toFixed(2)} ms`,
              `${fsync.maxMs.toFixed(1)} ms`,
              '',
              '',
            ],
          ],
        },
        {
          caption: 'Recovery',
          header: [
            'journaled changes replayed',
            'data directory',
            'from the journal alone (crash)',
            'from a checkpoint (clean stop)',
            'checkpoint size',
          ],
          rows: [
            [
              rec.changes.toLocaleString('en-US'),
              bytes(rec.journalBytes),
              `${rec.fromJournalS.toFixed(2)} s`,
              `${rec.fromCheckpointS.toFixed(2)} s`,
              bytes(rec.checkpointBytes),
            ],
          ],
        },
        {
          caption: `Checkpoint of one ${big.nodes.toLocaleString('en-US')}-node task, ${big.driven.toLocaleString('en-US')} changes in (60% of its pass)`,
          header: ['time', 'size', 'parts', 'event loop max meanwhile', 'recovery from it'],
          rows: [
            [
              `${big.seconds.toFixed(2)} s`,
              bytes(big.bytes),
              String(big.parts),
              `${big.loopMaxMs.toFixed(1)} ms`,
              `${big.recoverS.toFixed(2)} s`,
            ],
          ],
        },
      ],
      checks,
      notes: [
        'Tasks of 100 nodes driven through their whole pass (a created task is a change too). SQLite (better-sqlite3) in WAL mode, written by its own thread.',
        `Sustained: ${CLIENTS} clients keep the main thread saturated, so its event-loop delay there measures the CPU, not the disk; the open-loop rows at 5,000/s measure the disk's effect.`,
        '`always` fsyncs each batch as soon as the previous one is written; `batch` at most every 5 ms; `off` never (the OS writes when it will).',
        'Recovery: the crash image is a copy of the directory taken while the engine ran (no checkpoint at the end); the checkpoint row is after a clean close. Each is opened by a fresh process (bench/recover.ts), timed from the call to openEngine until it resolves (the writer thread starting included).',
      ],
      raw: { throughput: rows, latency: lat, fsync, recovery: rec, checkpoint: big },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
