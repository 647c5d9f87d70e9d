/**
 * Storage that cannot be trusted or used. Torn and corrupted files (truncated, or bytes
 * overwritten, at random offsets, in the database or its log): recovery gives the state after
 * some complete commit, or refuses with a JournalError naming the file; never a state that never
 * was. A foreign file, a directory that is not empty, one in use by another engine, one that
 * cannot be created, a read-only or full file system: refused at open, naming the path and cause.
 * A disk that fills while running: the change is refused and undone, reads go on, and writes are
 * accepted again once there is room.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  closeSync,
  ftruncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type DurableEngine } from '../../src/api/durable-engine.js';
import { JournalError } from '../../src/store/journal/index.js';
import { ManualTimers } from './manual-timers.js';
import { dumpSnapshot } from '../store/helpers.js';
import { PIPELINE, pumped } from './helpers.js';
import { runs } from '../fc-runs.js';

const root = mkdtempSync(join(tmpdir(), 'pipestate-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `case${++n}`);

const quiet = { log: () => {} };
const state = (e: DurableEngine): string =>
  JSON.stringify({
    cursor: e.cursor,
    projects: e.snapshot().projectsInOrder(),
    tasks: [...dumpSnapshot(e.snapshot())].map(([t, m]) => [t, [...m]]),
  });

async function refusal(run: () => Promise<unknown>): Promise<JournalError> {
  try {
    const opened = await run();
    await (opened as DurableEngine).close();
  } catch (e) {
    if (e instanceof JournalError) return e;
    throw e;
  }
  throw new Error('opened; a refusal was expected');
}

// ---------------------------------------------------------------------------------------------

describe('torn and corrupted storage', () => {
  /** states after each complete commit, and two images of the directory: while running (a crash) and after a clean close */
  const prefixes = new Set<string>();
  const images: string[] = [];

  beforeAll(async () => {
    const dataDir = fresh();
    let now = Date.UTC(2024, 0, 1);
    const engine = await openEngine({
      dataDir,
      durability: 'always',
      clock: () => (now += 1_000),
      checkpoint: { every: 40, keepChanges: 10, chunk: 4 },
      ...quiet,
    });
    prefixes.add(state(engine));
    const step = async (run: () => unknown) => {
      try {
        run();
      } catch {
        return; // refused: nothing changed
      }
      await engine.durable();
      prefixes.add(state(engine));
    };
    await step(() => engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' }));
    for (let t = 10; t < 16; t++) {
      const id = String(t);
      await step(() => engine.createTask({ id, project_id: '1', name: `task ${id}`, pipeline: PIPELINE }));
      for (const [op, node, args] of [
        ['start', 'root'],
        ['start', 'a'],
        ['fail', 'a', { ex_data: { code: t } }],
        ['retry', 'a'],
        ['start', 'a'],
        ['finish', 'a'],
        ['start', 'sub'],
        ['start', 'b'],
        ['callback', 'b', { data: [t] }],
        ['finish', 'b'],
        ['start', 'c'],
        ['finish', 'c'],
        ['finish', 'sub'],
      ] as const) {
        await step(() => engine.apply(id, node, op, args as never));
      }
      await step(() => (t % 2 === 0 ? engine.finish(id, 'root') : engine.revoke(id, 'root')));
      if (t === 12) await engine.checkpoint();
    }
    const running = fresh();
    cpSync(dataDir, running, { recursive: true });
    images.push(running);
    await engine.close();
    images.push(dataDir);
  });

  it('recovers the state after some complete commit, or refuses naming the file; never anything else', async () => {
    const outcomes = { recovered: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.nat(images.length - 1),
        fc.nat(),
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
          fc.record({
            kind: fc.constant('overwrite' as const),
            at: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 16,
            }),
          }),
        ),
        async (image, pick, damage) => {
          const dir = fresh();
          cpSync(images[image], dir, { recursive: true });
          const files = readdirSync(dir)
            .filter((f) => statSync(join(dir, f)).size > 0)
            .sort();
          const file = join(dir, files[pick % files.length]);
          const size = statSync(file).size;
          const fd = openSync(file, 'r+');
          if (damage.kind === 'truncate') ftruncateSync(fd, Math.floor(damage.at * size));
          else for (const [at, byte] of damage.at) writeSync(fd, Buffer.from([byte]), 0, 1, Math.min(size - 1, Math.floor(at * size)));
          closeSync(fd);
          let engine: DurableEngine;
          try {
            engine = await openEngine({ dataDir: dir, ...quiet });
          } catch (error) {
            expect(error).toBeInstanceOf(JournalError);
            expect((error as JournalError).message.startsWith(dir)).toBe(true);
            outcomes.refused++;
            return;
          }
          try {
            expect(prefixes.has(state(engine))).toBe(true);
            outcomes.recovered++;
          } finally {
            await engine.close();
          }
        },
      ),
      { numRuns: runs('journalStorageFaults') },
    );
    // both outcomes happen: the test does exercise each path
    expect(outcomes.recovered).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('a data directory that cannot be used is refused at open, naming the path and the cause', () => {
  it('a file that is not SQLite', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'pipestate.db'), 'x'.repeat(4096));
    const e = await refusal(() => openEngine({ dataDir: dir, ...quiet }));
    expect(e.message).toBe(
      `${join(dir, 'pipestate.db')}: is not a pipestate data file: not an SQLite database (SQLITE_NOTADB: file is not a database)`,
    );
  });

  it('an SQLite database of something else', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const db = new Database(join(dir, 'pipestate.db'));
    db.exec('CREATE TABLE t (x)');
    db.close();
    const e = await refusal(() => openEngine({ dataDir: dir, ...quiet }));
    expect(e.message).toBe(`${join(dir, 'pipestate.db')}: is an SQLite database but not a pipestate journal (it has no meta table)`);
  });

  it('a journal of a newer format', async () => {
    const dir = fresh();
    await (await openEngine({ dataDir: dir, ...quiet })).close();
    const db = new Database(join(dir, 'pipestate.db'));
    db.prepare("UPDATE meta SET value = '2' WHERE key = 'version'").run();
    db.close();
    const e = await refusal(() => openEngine({ dataDir: dir, ...quiet }));
    expect(e.message).toBe(`${join(dir, 'pipestate.db')}: is journal format 2; this pipestate reads format 1`);
  });

  it('a directory holding other files', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const e = await refusal(() => openEngine({ dataDir: dir, ...quiet }));
    expect(e.message).toBe(`${dir}: holds other files (notes.txt) and no pipestate.db: give a new or empty directory`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('a path that is a file, or under one', async () => {
    const file = fresh();
    writeFileSync(file, '');
    expect((await refusal(() => openEngine({ dataDir: file, ...quiet }))).message).toBe(`${file}: is not a directory`);
    expect((await refusal(() => openEngine({ dataDir: join(file, 'data'), ...quiet }))).message).toBe(
      `${join(file, 'data')}: cannot be created: a parent of it is not a directory (ENOTDIR)`,
    );
  });

  it('a directory another engine has open', async () => {
    const dir = fresh();
    const first = await openEngine({ dataDir: dir, ...quiet });
    try {
      const e = await refusal(() => openEngine({ dataDir: dir, ...quiet }));
      expect(e.message).toMatch(
        new RegExp(`^${join(dir, 'pipestate.db')}: is in use by another process \\(a running pipestate\\?\\) \\(SQLITE_BUSY`),
      );
    } finally {
      await first.close();
    }
  });

  it('a journal batch or checkpoint part whose bytes changed but still parse (the checksum)', async () => {
    const dir = fresh();
    const e1 = await openEngine({ dataDir: dir, ...quiet });
    e1.createProject({ id: '1', name: 'one' });
    e1.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
    await e1.checkpoint();
    e1.start('10', 'root');
    await e1.durable();
    const crashed = fresh();
    cpSync(dir, crashed, { recursive: true });
    await e1.close();
    /** rewrites one stored body, the same JSON with one name changed */
    const tamper = (table: string, key: string) => {
      const db = new Database(join(crashed, 'pipestate.db'));
      const [id, body] = db.prepare(`SELECT ${key}, body FROM ${table} ORDER BY ${key} DESC LIMIT 1`).raw().get() as [number, Buffer];
      const text = body.toString('utf8');
      expect(text).toContain('"10"');
      db.prepare(`UPDATE ${table} SET body = ? WHERE ${key} = ?`).run(Buffer.from(text.replace('"10"', '"11"')), id);
      db.close();
    };
    tamper('journal', 'first_lsn');
    expect((await refusal(() => openEngine({ dataDir: crashed, ...quiet }))).message).toBe(
      `${join(crashed, 'pipestate.db')}: the journal batch at positions 3..3 is corrupt (checksum mismatch)`,
    );
    tamper('checkpoint_part', 'part');
    expect((await refusal(() => openEngine({ dataDir: crashed, ...quiet }))).message).toMatch(
      /pipestate\.db: part \d+ of the checkpoint at position 2 is corrupt \(checksum mismatch\)$/,
    );
  });

  it('rows missing from the journal', async () => {
    const dir = fresh();
    const e1 = await openEngine({ dataDir: dir, ...quiet });
    e1.createProject({ id: '1', name: 'one' });
    e1.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
    await e1.durable();
    e1.start('10', 'root');
    await e1.durable();
    e1.start('10', 'a');
    await e1.durable();
    const crashed = fresh();
    cpSync(dir, crashed, { recursive: true });
    await e1.close();
    const db = new Database(join(crashed, 'pipestate.db'));
    const rows = db.prepare('SELECT first_lsn FROM journal ORDER BY first_lsn').pluck().all() as number[];
    db.prepare('DELETE FROM journal WHERE first_lsn = ?').run(rows[1]);
    db.close();
    const e = await refusal(() => openEngine({ dataDir: crashed, ...quiet }));
    expect(e.message).toBe(`${crashed}: journal positions 3..3 are missing`);
    const db2 = new Database(join(crashed, 'pipestate.db'));
    db2.prepare('DELETE FROM journal WHERE first_lsn = ?').run(rows[2]);
    db2.close();
    expect((await refusal(() => openEngine({ dataDir: crashed, ...quiet }))).message).toBe(
      `${crashed}: the journal ends at position 2 but 4 was written: entries are missing`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// File systems that are read-only or full: a small tmpfs, where this machine lets us mount one.

function mountTmpfs(dir: string, options: string): (() => void) | undefined {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  return r.status === 0
    ? () => {
        spawnSync('umount', [dir], { stdio: 'ignore' });
      }
    : undefined;
}

const canMount = (() => {
  const probe = join(root, 'probe-mount');
  const unmount = mountTmpfs(probe, 'size=64k');
  unmount?.();
  return unmount !== undefined;
})();

describe.skipIf(!canMount)('read-only and full file systems (tmpfs)', () => {
  it('a read-only file system: refused at open', async () => {
    const dir = fresh();
    const unmount = mountTmpfs(dir, 'size=4m')!;
    try {
      await (await openEngine({ dataDir: join(dir, 'data'), ...quiet })).close();
      expect(spawnSync('mount', ['-o', 'remount,ro', dir]).status).toBe(0);
      const e = await refusal(() => openEngine({ dataDir: join(dir, 'data'), ...quiet }));
      expect(e.message).toBe(`${join(dir, 'data')}: is on a read-only file system (EROFS)`);
    } finally {
      unmount();
    }
  });

  it('a full disk: refused at open', async () => {
    const dir = fresh();
    const unmount = mountTmpfs(dir, 'size=256k')!;
    try {
      writeFileSync(join(dir, 'filler'), Buffer.alloc(256 * 1024 - 4096));
      const e = await refusal(() => openEngine({ dataDir: join(dir, 'data'), ...quiet }));
      expect(e.message).toMatch(new RegExp(`^${join(dir, 'data')}.*(disk is full|ENOSPC)`));
    } finally {
      unmount();
    }
  });

  it('a disk that fills while running: the change is refused and undone, reads go on, writes resume once there is room', async () => {
    const dir = fresh();
    const unmount = mountTmpfs(dir, 'size=1m')!;
    try {
      const timers = new ManualTimers();
      const engine = await openEngine({
        dataDir: join(dir, 'data'),
        durability: 'always',
        journalTimers: timers,
        limits: { maxNodeExDataBytes: 256 * 1024 },
        retryMs: 1_000,
        ...quiet,
      });
      const pump = (p: Promise<unknown>) => pumped(timers, p);
      engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
      engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
      engine.start('10', 'root');
      await pump(engine.durable());
      writeFileSync(join(dir, 'filler'), Buffer.alloc(1));
      const fd = openSync(join(dir, 'filler'), 'r+');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (let at = 0; ; at += chunk.length) writeSync(fd, chunk, 0, chunk.length, at);
      } catch {
        // ENOSPC: the disk is full
      } finally {
        closeSync(fd);
      }
      const before = state(engine);
      const [change] = engine.start('10', 'a', {});
      engine.fail('10', 'a', { ex_data: 'x'.repeat(200_000) });
      const outcome = engine.whenDurable(change.seq).then(
        () => 'durable',
        (e: { code: number; message: string }) => `${e.code} ${e.message}`,
      );
      await pump(outcome);
      expect(await outcome).toMatch(/^3599999 journal unavailable: (the disk is full|the storage refused a write)/);
      expect(state(engine)).toBe(before);
      expect(engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data).toMatchObject({ state: 'RUNNING' });
      expect(() => engine.start('10', 'a')).toThrow(/journal unavailable/);
      expect(engine.storageStatus()).toMatchObject({ journal: expect.stringMatching(/disk is full|refused/) as unknown });
      rmSync(join(dir, 'filler'));
      timers.advance(1_000);
      const journal = () => (engine.storageStatus() as { journal?: string }).journal;
      // The probe write runs on SQLite's worker thread: real I/O, so wait for its answer (polled,
      // bounded at 10 s) rather than for a fixed number of event-loop turns, which a loaded
      // machine can outrun. Each poll also fires any retry the manual timers hold.
      for (let i = 0; i < 1_000 && journal() !== 'ok'; i++) {
        await pump(new Promise((r) => setTimeout(r, 10)));
        if (i % 20 === 19) timers.advance(1_000);
      }
      expect(engine.storageStatus()).toMatchObject({ journal: 'ok' });
      const [again] = engine.start('10', 'a');
      await pump(engine.whenDurable(again.seq));
      await pump(engine.close());
      const reopened = await openEngine({ dataDir: join(dir, 'data'), ...quiet });
      expect(reopened.snapshot().getNode('10', 'a')!.state).toBe('RUNNING');
      await reopened.close();
    } finally {
      unmount();
    }
  });
});
