/**
 * The SQLite journal's thread: it owns the one connection to `pipestate.db` and runs the main
 * thread's requests in order. better-sqlite3 is synchronous, so here (and only here) a commit
 * waits on its fsync; the main thread's event loop never does.
 *
 * The connection holds SQLite's exclusive lock for as long as it is open: a second process
 * pointed at the same directory is refused instead of interleaving writes.
 */
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ArchiveRow, BatchRow, CheckpointRow, Envelope, OpenInfo, Reply, Request, Sync } from './protocol.js';
import { FORMAT_NAME, FORMAT_VERSION, SCHEMA } from './schema.js';

type Db = Database.Database;

/** A refusal to open, with a code the main thread turns into its message. */
class OpenRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function meta(db: Db, key: string): string | undefined {
  return db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
}

function checkFormat(db: Db, readonly: boolean): boolean {
  const tables = db.prepare<[], number>("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get()!;
  const hasMeta = db.prepare<[], number>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get()! > 0;
  if (!hasMeta) {
    if (tables > 0 || readonly)
      throw new OpenRefused('FOREIGN', 'is an SQLite database but not a pipestate journal (it has no meta table)');
    return false;
  }
  const name = meta(db, 'format');
  const version = Number(meta(db, 'version'));
  if (name !== FORMAT_NAME) throw new OpenRefused('FOREIGN', `is not a pipestate journal (format ${JSON.stringify(name)})`);
  if (version !== FORMAT_VERSION) {
    throw new OpenRefused('VERSION', `is journal format ${version}; this pipestate reads format ${FORMAT_VERSION}`);
  }
  return true;
}

class Journal {
  private readonly statements;

  constructor(
    private readonly db: Db,
    private readonly sync: Sync,
  ) {
    this.statements = {
      insertBatch: db.prepare('INSERT INTO journal (first_lsn, last_lsn, last_seq, crc, body) VALUES (?, ?, ?, ?, ?)'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      putArchive: db.prepare(
        'INSERT OR REPLACE INTO archive (task_id, project_id, archived_at, expires_at, crc, body) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteArchive: db.prepare('DELETE FROM archive WHERE task_id = ?'),
      readBatches: db
        .prepare<[number], [number, number, number, number, Buffer]>(
          'SELECT first_lsn, last_lsn, last_seq, crc, body FROM journal WHERE last_lsn > ? ORDER BY first_lsn',
        )
        .raw(),
      readParts: db
        .prepare<[number, number], [number, number, Buffer]>(
          'SELECT part, crc, body FROM checkpoint_part WHERE checkpoint_id = ? AND part >= ? ORDER BY part',
        )
        .raw(),
      readArchive: db
        .prepare<[string], [string, string, number, number, number, Buffer]>(
          'SELECT task_id, project_id, archived_at, expires_at, crc, body FROM archive WHERE task_id = ?',
        )
        .raw(),
    };
  }

  private syncMode(mode: Sync | 'NORMAL'): void {
    this.db.pragma(`synchronous = ${mode}`);
  }

  append(row: BatchRow, archives: readonly ArchiveRow[], deletes: readonly string[]): void {
    const s = this.statements;
    this.db.transaction(() => {
      s.insertBatch.run(row.first, row.last, row.lastSeq, row.crc, row.body);
      for (const a of archives) s.putArchive.run(a.taskId, a.projectId, a.archivedAt, a.expiresAt, a.crc, a.body);
      for (const taskId of deletes) s.deleteArchive.run(taskId);
      s.setMeta.run('last_lsn', String(row.last));
      s.setMeta.run('last_seq', String(row.lastSeq));
    })();
  }

  read(after: number, maxBytes: number): { rows: BatchRow[]; more: boolean } {
    const rows: BatchRow[] = [];
    let bytes = 0;
    for (const [first, last, lastSeq, crc, body] of this.statements.readBatches.iterate(after)) {
      if (rows.length > 0 && bytes + body.length > maxBytes) return { rows, more: true };
      rows.push({ first, last, lastSeq, crc, body });
      bytes += body.length;
    }
    return { rows, more: false };
  }

  readCheckpoint(id: number, fromPart: number, maxBytes: number): { parts: { part: number; crc: number; body: Buffer }[]; more: boolean } {
    const parts: { part: number; crc: number; body: Buffer }[] = [];
    let bytes = 0;
    for (const [part, crc, body] of this.statements.readParts.iterate(id, fromPart)) {
      if (parts.length > 0 && bytes + body.length > maxBytes) return { parts, more: true };
      parts.push({ part, crc, body });
      bytes += body.length;
    }
    return { parts, more: false };
  }

  checkpointBegin(lsn: number, seq: number, header: string): number {
    return Number(
      this.db.prepare('INSERT INTO checkpoint (lsn, seq, header, parts) VALUES (?, ?, ?, 0)').run(lsn, seq, header).lastInsertRowid,
    );
  }

  /** Parts go without an fsync each; the end's commit syncs the log that holds them all. */
  checkpointPart(id: number, part: number, crc: number, body: Uint8Array): void {
    this.syncMode('NORMAL');
    try {
      this.db.prepare('INSERT INTO checkpoint_part (checkpoint_id, part, crc, body) VALUES (?, ?, ?, ?)').run(id, part, crc, body);
    } finally {
      this.syncMode(this.sync);
    }
  }

  checkpointEnd(id: number, parts: number): void {
    this.db.prepare('UPDATE checkpoint SET complete = 1, parts = ? WHERE id = ?').run(parts, id);
  }

  /** Older checkpoints go, and journal rows the newest one covers, but for the kept tail. */
  drop(lsn: number, keepSeqAbove: number): void {
    this.db.transaction(() => {
      const latest = this.latestCheckpoint();
      if (latest === undefined) return;
      this.db.prepare('DELETE FROM checkpoint_part WHERE checkpoint_id < ?').run(latest.id);
      this.db.prepare('DELETE FROM checkpoint WHERE id < ?').run(latest.id);
      this.db.prepare('DELETE FROM journal WHERE last_lsn <= ? AND last_seq <= ?').run(lsn, keepSeqAbove);
    })();
  }

  readArchived(taskId: string): ArchiveRow | undefined {
    const r = this.statements.readArchive.get(taskId);
    return r && { taskId: r[0], projectId: r[1], archivedAt: r[2], expiresAt: r[3], crc: r[4], body: r[5] };
  }

  expire(now: number): number {
    return this.db.prepare('DELETE FROM archive WHERE expires_at <= ?').run(now).changes;
  }

  /** A write that needs room: after a failure, does the disk take writes again? */
  probe(): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO probe (body) VALUES (zeroblob(65536))').run();
      this.db.prepare('DELETE FROM probe').run();
    })();
  }

  verify(): string[] {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
  }

  archiveIds(): string[] {
    return this.db.prepare<[], string>('SELECT task_id FROM archive ORDER BY task_id').pluck().all();
  }

  latestCheckpoint(): CheckpointRow | undefined {
    const r = this.db
      .prepare<[], [number, string, number]>('SELECT id, header, parts FROM checkpoint WHERE complete = 1 ORDER BY id DESC LIMIT 1')
      .raw()
      .get();
    return r && { id: r[0], header: r[1], parts: r[2] };
  }

  info(created: boolean): OpenInfo {
    const lastLsn = Number(meta(this.db, 'last_lsn') ?? 0);
    const lastSeq = Number(meta(this.db, 'last_seq') ?? 0);
    return { created, checkpoint: this.latestCheckpoint(), lastLsn, lastSeq };
  }

  close(): void {
    this.db.close();
  }
}

function open(path: string, sync: Sync, readonly: boolean): { journal: Journal; info: OpenInfo } {
  const db = new Database(path, { readonly, fileMustExist: readonly, timeout: 100 });
  try {
    if (!readonly) db.pragma('locking_mode = EXCLUSIVE');
    // The first statement reads the header: a file that is not SQLite fails here.
    const mode = readonly ? db.pragma('journal_mode', { simple: true }) : db.pragma('journal_mode = WAL', { simple: true });
    if (!readonly && mode !== 'wal') throw new OpenRefused('WAL', `cannot use a write-ahead log here (journal mode ${String(mode)})`);
    db.pragma(`synchronous = ${sync}`);
    db.pragma('cell_size_check = ON');
    db.pragma('journal_size_limit = 67108864');
    const existed = checkFormat(db, readonly);
    if (!readonly) {
      db.transaction(() => {
        if (!existed) {
          db.exec(SCHEMA);
          const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
          for (const [k, v] of [
            ['format', FORMAT_NAME],
            ['version', String(FORMAT_VERSION)],
            ['last_lsn', '0'],
            ['last_seq', '0'],
            ['created_at', new Date().toISOString()],
          ])
            put.run(k, v);
        }
        // Takes the exclusive lock now, and shows the disk takes writes before the service starts.
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)").run(new Date().toISOString());
        // A checkpoint that never completed is garbage.
        db.prepare('DELETE FROM checkpoint_part WHERE checkpoint_id IN (SELECT id FROM checkpoint WHERE complete = 0)').run();
        db.prepare('DELETE FROM checkpoint WHERE complete = 0').run();
      })();
    }
    const journal = new Journal(db, sync);
    return { journal, info: journal.info(!existed) };
  } catch (error) {
    db.close();
    throw error;
  }
}

let journal: Journal | undefined;

function run(r: Request): unknown {
  if (r.op === 'open') {
    const opened = open(r.path, r.sync, r.readonly);
    journal = opened.journal;
    return opened.info;
  }
  if (journal === undefined) throw new Error('the journal is not open');
  switch (r.op) {
    case 'append':
      return journal.append(r.row, r.archives, r.deletes);
    case 'read':
      return journal.read(r.after, r.maxBytes);
    case 'readCheckpoint':
      return journal.readCheckpoint(r.checkpointId, r.fromPart, r.maxBytes);
    case 'checkpointBegin':
      return journal.checkpointBegin(r.lsn, r.seq, r.header);
    case 'checkpointPart':
      return journal.checkpointPart(r.checkpointId, r.part, r.crc, r.body);
    case 'checkpointEnd':
      return journal.checkpointEnd(r.checkpointId, r.parts);
    case 'drop':
      return journal.drop(r.lsn, r.keepSeqAbove);
    case 'readArchived':
      return journal.readArchived(r.taskId);
    case 'expire':
      return journal.expire(r.now);
    case 'probe':
      return journal.probe();
    case 'verify':
      return journal.verify();
    case 'archiveIds':
      return journal.archiveIds();
    case 'close': {
      journal.close();
      journal = undefined;
      return undefined;
    }
  }
}

parentPort!.on('message', (m: Envelope) => {
  let reply: Reply;
  try {
    reply = { id: m.id, ok: true, value: run(m) };
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    reply = { id: m.id, ok: false, error: { code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? error) } };
  }
  parentPort!.postMessage(reply);
});
