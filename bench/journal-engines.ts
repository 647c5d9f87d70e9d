/**
 * Section "engines": the two embedded storage engines the journal could sit on, measured on its
 * own access pattern, which is how SQLite was chosen (README "Durability").
 *
 * - better-sqlite3 (12.x), synchronous, driven from a worker thread; WAL, synchronous=FULL (an
 *   fsync per commit) or OFF.
 * - lmdb (3.x), asynchronous puts committed by its own thread; synced, or noSync.
 *
 * The pattern: group-commit batches (1,000 entries of 250 bytes in one row, one transaction per
 * write, one write in flight), replay (read every row back in order), a checkpoint (150 parts of
 * 1 MiB in one go, about a 10^6-node task), and what a corrupt file does to a reader (random
 * bytes overwritten, 40 files each): a clear error, intact, silently wrong rows, or a crash.
 *
 * lmdb is not a dependency: `npm i --no-save lmdb@3` before the run to include it.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BenchConfig } from './config.js';
import { bytes, progress, type SectionResult } from './report.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const ROW = 250;
const PER_BATCH = 1_000;
const root = mkdtempSync(join(tmpdir(), 'pipestate-bench-engines-'));
let dirs = 0;
const newDir = (): string => {
  const d = join(root, `d${++dirs}`);
  mkdirSync(d);
  return d;
};
const dirBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const batchBody = (): Buffer => Buffer.alloc(PER_BATCH * ROW, 'x');

interface Figures {
  readonly engine: string;
  readonly appendRowsPerSec: number;
  readonly loopP99Ms: number;
  readonly replayMBs: number;
  readonly checkpointS: number;
  readonly sizeBytes: number;
}

const SQLITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + workerData.sync);
db.exec('CREATE TABLE j (pos INTEGER PRIMARY KEY, body BLOB NOT NULL); CREATE TABLE c (part INTEGER PRIMARY KEY, body BLOB NOT NULL)');
const ins = db.prepare('INSERT INTO j VALUES (?, ?)');
const part = db.prepare('INSERT INTO c VALUES (?, ?)');
parentPort.on('message', (m) => {
  if (m.rows) db.transaction(() => { for (const r of m.rows) ins.run(r.pos, r.body); })();
  if (m.parts) db.transaction(() => { m.parts.forEach((p, i) => part.run(i, p)); })();
  if (m.close) db.close();
  parentPort.postMessage(m.id);
});`;

async function sqlite(sync: 'FULL' | 'OFF', entries: number): Promise<Figures> {
  const dir = newDir();
  const path = join(dir, 'j.db');
  const worker = new Worker(SQLITE_WORKER, { eval: true, workerData: { path, sync, module: require.resolve('better-sqlite3') } });
  const waiting = new Map<number, () => void>();
  worker.on('message', (id: number) => {
    waiting.get(id)?.();
    waiting.delete(id);
  });
  let next = 0;
  const send = (m: Record<string, unknown>) =>
    new Promise<void>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      worker.postMessage({ ...m, id });
    });
  // Group commit: one write in flight; batches made meanwhile go together in the next.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now();
  let pending: { pos: number; body: Buffer }[] = [];
  let inflight: Promise<void> | undefined;
  for (let pos = 0; pos < entries; pos += PER_BATCH) {
    pending.push({ pos, body: batchBody() });
    if (!inflight) {
      const rows = pending;
      pending = [];
      inflight = send({ rows }).then(() => {
        inflight = undefined;
      });
    }
    await new Promise((r) => setImmediate(r));
  }
  while (inflight || pending.length > 0) {
    if (inflight) await inflight;
    if (pending.length > 0) {
      const rows = pending;
      pending = [];
      await send({ rows });
    }
  }
  const appendS = (performance.now() - t0) / 1000;
  loop.disable();
  const parts = Array.from({ length: 150 }, () => Buffer.alloc(1 << 20, 'y'));
  const c0 = performance.now();
  await send({ parts });
  const checkpointS = (performance.now() - c0) / 1000;
  await send({ close: true });
  await worker.terminate();
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(path, { readonly: true });
  const r0 = performance.now();
  let read = 0;
  for (const row of db.prepare('SELECT pos, body FROM j ORDER BY pos').raw().iterate() as IterableIterator<[number, Buffer]>)
    read += row[1].length;
  const replayS = (performance.now() - r0) / 1000;
  db.close();
  return {
    engine: `better-sqlite3, synchronous=${sync}`,
    appendRowsPerSec: entries / appendS,
    loopP99Ms: loop.percentile(99) / 1e6,
    replayMBs: read / 1e6 / replayS,
    checkpointS,
    sizeBytes: dirBytes(dir),
  };
}

interface Lmdb {
  open(o: Record<string, unknown>): { openDB(o: Record<string, unknown>): LmdbDb; flushed: Promise<void>; close(): Promise<void> };
}
interface LmdbDb {
  put(k: unknown, v: Buffer): Promise<boolean>;
  transaction(fn: () => void): Promise<unknown>;
  getRange(o: Record<string, unknown>): Iterable<{ value: Buffer }>;
}

async function lmdb(mod: Lmdb, noSync: boolean, entries: number): Promise<Figures> {
  const dir = newDir();
  const env = mod.open({ path: dir, noSync, encoding: 'binary', mapSize: 2 ** 33 });
  const j = env.openDB({ name: 'j', encoding: 'binary', keyEncoding: 'uint32' });
  const c = env.openDB({ name: 'c', encoding: 'binary', keyEncoding: 'uint32' });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now();
  const puts: Promise<unknown>[] = [];
  for (let pos = 0; pos < entries; pos += PER_BATCH) {
    puts.push(j.put(pos, batchBody()));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(puts);
  await env.flushed;
  const appendS = (performance.now() - t0) / 1000;
  loop.disable();
  const c0 = performance.now();
  await c.transaction(() => {
    for (let i = 0; i < 150; i++) void c.put(i, Buffer.alloc(1 << 20, 'y'));
  });
  await env.flushed;
  const checkpointS = (performance.now() - c0) / 1000;
  const r0 = performance.now();
  let read = 0;
  for (const { value } of j.getRange({})) read += value.length;
  const replayS = (performance.now() - r0) / 1000;
  await env.close();
  return {
    engine: `lmdb, ${noSync ? 'noSync' : 'synced'}`,
    appendRowsPerSec: entries / appendS,
    loopP99Ms: loop.percentile(99) / 1e6,
    replayMBs: read / 1e6 / replayS,
    checkpointS,
    sizeBytes: dirBytes(dir),
  };
}

// ---------------------------------------------------------------------------------------------
// A corrupt file: a reader in a child process, so that a crash is counted and not suffered.

const BUILD: Record<string, string> = {
  'better-sqlite3': `import Database from 'better-sqlite3';
const db = new Database(process.argv[1] + '/j.db'); db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE j (pos INTEGER PRIMARY KEY, body BLOB NOT NULL)');
const ins = db.prepare('INSERT INTO j VALUES (?, ?)');
db.transaction(() => { for (let i = 0; i < 2000; i++) ins.run(i, Buffer.alloc(2000 + (i % 7) * 300, i % 251)); })(); db.close();`,
  lmdb: `import { open } from 'lmdb';
const env = open({ path: process.argv[1], encoding: 'binary' }); const j = env.openDB({ name: 'j', encoding: 'binary', keyEncoding: 'uint32' });
for (let i = 0; i < 2000; i++) j.put(i, Buffer.alloc(2000 + (i % 7) * 300, i % 251)); await env.flushed; await env.close();`,
};
const READ: Record<string, string> = {
  'better-sqlite3': `import Database from 'better-sqlite3';
const db = new Database(process.argv[1] + '/j.db'); let n = 0, bad = 0;
for (const [k, v] of db.prepare('SELECT pos, body FROM j ORDER BY pos').raw().iterate()) { n++; if (v.length !== 2000 + (k % 7) * 300 || v[0] !== k % 251 || v[v.length - 1] !== k % 251) bad++; }
console.log(JSON.stringify({ n, bad }));`,
  lmdb: `import { open } from 'lmdb';
const env = open({ path: process.argv[1], encoding: 'binary' }); const j = env.openDB({ name: 'j', encoding: 'binary', keyEncoding: 'uint32' });
let n = 0, bad = 0; for (const { key: k, value: v } of j.getRange({})) { n++; if (v.length !== 2000 + (k % 7) * 300 || v[0] !== k % 251 || v[v.length - 1] !== k % 251) bad++; }
console.log(JSON.stringify({ n, bad }));`,
};

interface Survival {
  readonly engine: string;
  readonly error: number;
  readonly intact: number;
  readonly wrong: number;
  readonly crash: number;
}

/** Seeded, so that both engines see the same damage. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function survival(engine: string, trials: number, flips: number): Survival {
  const node = (src: string, dir: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', src, dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  const pristine = newDir();
  const built = node(BUILD[engine], pristine);
  if (built.status !== 0) throw new Error(`${engine}: ${built.stderr}`);
  const out = { engine, error: 0, intact: 0, wrong: 0, crash: 0 };
  const random = rng(42);
  for (let t = 0; t < trials; t++) {
    const dir = newDir();
    cpSync(pristine, dir, { recursive: true });
    const files = readdirSync(dir).filter((f) => !f.endsWith('-lock'));
    for (let k = 0; k < flips; k++) {
      const fd = openSync(join(dir, files[Math.floor(random() * files.length)]), 'r+');
      const size = fstatSync(fd).size;
      if (size > 0) writeSync(fd, Buffer.from([Math.floor(random() * 256)]), 0, 1, Math.floor(random() * size));
      closeSync(fd);
    }
    const r = node(READ[engine], dir);
    if (r.signal) out.crash++;
    else if (r.status !== 0) out.error++;
    else {
      const { n, bad } = JSON.parse(r.stdout) as { n: number; bad: number };
      if (bad > 0 || n !== 2000) out.wrong++;
      else out.intact++;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  try {
    const entries = config.quick ? 50_000 : 500_000;
    let lmdbModule: Lmdb | undefined;
    try {
      lmdbModule = (await import('lmdb' as string)) as Lmdb;
    } catch {
      lmdbModule = undefined;
    }
    const figures: Figures[] = [];
    for (const sync of ['FULL', 'OFF'] as const) {
      figures.push(await sqlite(sync, entries));
      progress(figures[figures.length - 1].engine);
    }
    if (lmdbModule) {
      for (const noSync of [false, true]) {
        figures.push(await lmdb(lmdbModule, noSync, entries));
        progress(figures[figures.length - 1].engine);
      }
    }
    const trials = config.quick ? 10 : 40;
    const damage: Survival[] = [];
    for (const engine of lmdbModule ? ['better-sqlite3', 'lmdb'] : ['better-sqlite3']) {
      damage.push(survival(engine, trials, 200));
      progress(`${engine}: ${JSON.stringify(damage[damage.length - 1])}`);
    }
    return {
      section: 'engines',
      title: "Journal engines: better-sqlite3 against lmdb on the journal's access pattern",
      tables: [
        {
          caption: `${entries.toLocaleString('en-US')} entries of ${ROW} B in batches of ${PER_BATCH.toLocaleString('en-US')}, one write in flight; then a 150 MiB checkpoint and a full replay`,
          header: ['engine', 'entries/s written', 'event loop p99 meanwhile', 'replay read', 'checkpoint 150 MiB', 'on disk'],
          rows: figures.map((f) => [
            f.engine,
            Math.round(f.appendRowsPerSec).toLocaleString('en-US'),
            `${f.loopP99Ms.toFixed(1)} ms`,
            `${Math.round(f.replayMBs).toLocaleString('en-US')} MB/s`,
            `${f.checkpointS.toFixed(2)} s`,
            bytes(f.sizeBytes),
          ]),
        },
        {
          caption: `A corrupt file: 200 random bytes overwritten, ${trials} files each; what a reader of 2,000 rows gets`,
          header: ['engine', 'clear error', 'all rows intact', 'rows silently wrong', 'process crashed'],
          rows: damage.map((d) => [d.engine, String(d.error), String(d.intact), String(d.wrong), String(d.crash)]),
        },
      ],
      checks: [],
      notes: [
        lmdbModule
          ? 'lmdb measured (installed without saving).'
          : 'lmdb is not installed: `npm i --no-save lmdb@3` and run `npm run bench -- --only engines` to compare.',
        'Rows silently wrong are why every stored unit carries a CRC-32 the journal checks; a crashed reader cannot be checked at all.',
      ],
      raw: { figures, damage },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
