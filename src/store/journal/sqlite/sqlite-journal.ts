/**
 * The embedded journal: SQLite (better-sqlite3) in a data directory, written by its own thread.
 * Chosen over LMDB by measurement (README "Durability"): both far outrun what the engine
 * produces once a batch is one row, and SQLite reports a corrupt file as an error where LMDB
 * can take the process down.
 *
 * Encoding and checking happen here, on the main thread (JSON and CRC-32, a few µs per change);
 * the thread only moves bytes in and out of SQLite.
 */
import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Project } from '../../../model/index.js';
import { crc32, decodeEntries, decodeProject, decodeTask, decodeTaskPart, encodeEntries, fromJsonBytes, toJsonBytes } from '../codec.js';
import type { JournalBatch } from '../entries.js';
import { JournalError } from '../errors.js';
import type { ArchivedTask, CheckpointHeader, CheckpointPart, DecodedCheckpointPart, JournalPort, StoredState } from '../port.js';
import type { ArchiveRow, BatchRow, OpenInfo, Request } from './protocol.js';
import { DATA_FILE } from './schema.js';
import { ThreadError, WriterThread } from './thread.js';

export interface SqliteJournalOptions {
  /** fsync each commit (modes `always` and `batch`), or leave it to the OS (`off`) */
  readonly sync: boolean;
  /** open an existing journal for reading only (`pipestate journal verify`) */
  readonly readonly?: boolean;
}

/** Bytes per reply when reading back: bounds memory, whatever the journal's size. */
const READ_CHUNK = 8 << 20;

const tag = (text: string): number => crc32(Buffer.from(text));
const batchCrc = (first: number, last: number, lastSeq: number, body: Uint8Array): number =>
  crc32(body, tag(`batch ${first} ${last} ${lastSeq}`));
/** A part's CRC covers the header's position and seq too: a header that changed no longer matches its parts. */
const partCrc = (h: CheckpointHeader, part: number, body: Uint8Array): number => crc32(body, tag(`checkpoint ${h.lsn} ${h.seq} ${part}`));
const archiveCrc = (taskId: string, expiresAt: number, body: Uint8Array): number => crc32(body, tag(`archive ${taskId} ${expiresAt}`));

/** What SQLite's codes mean for someone starting the service. */
const OPEN_REASONS: readonly (readonly [string, string])[] = [
  ['SQLITE_NOTADB', 'is not a pipestate data file: not an SQLite database'],
  ['SQLITE_CORRUPT', 'is corrupt'],
  ['SQLITE_BUSY', 'is in use by another process (a running pipestate?)'],
  ['SQLITE_LOCKED', 'is in use by another process (a running pipestate?)'],
  ['SQLITE_FULL', 'cannot be written: the disk is full'],
  ['SQLITE_CANTOPEN', 'cannot be opened'],
  ['SQLITE_READONLY', 'cannot be written (read-only file or file system)'],
  ['SQLITE_IOERR', 'cannot be read or written (I/O error)'],
  ['SQLITE_PERM', 'cannot be opened (permission denied)'],
];

/** Why SQLite failed, in words, with its code: "is corrupt (SQLITE_CORRUPT: database disk image is malformed)". */
function failure(file: string, error: unknown, fallback: string): JournalError {
  if (!(error instanceof ThreadError)) return new JournalError(file, `${fallback} (${(error as Error).message})`, { cause: error });
  const code = error.code ?? '';
  if (code === 'FOREIGN' || code === 'VERSION' || code === 'WAL') return new JournalError(file, error.message, { cause: error });
  const known = OPEN_REASONS.find(([c]) => code === c || code.startsWith(`${c}_`));
  return new JournalError(file, `${known?.[1] ?? fallback} (${code ? `${code}: ` : ''}${error.message})`, { cause: error });
}

/** The directory is ours to use: it exists (or can be made) and holds our file or nothing. */
function prepareDirectory(dir: string, create: boolean): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new JournalError(dir, 'cannot be created: a parent of it is not a directory (ENOTDIR)');
    if (code !== 'ENOENT' || !create) throw new JournalError(dir, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`);
    try {
      mkdirSync(dir, { recursive: true });
      return;
    } catch (e) {
      throw new JournalError(dir, `cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (!isDir) throw new JournalError(dir, 'is not a directory');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new JournalError(dir, `cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  const ours = names.some((n) => n === DATA_FILE);
  const others = names.filter((n) => !n.startsWith(DATA_FILE));
  if (!ours && others.length > 0) {
    throw new JournalError(
      dir,
      `holds other files (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}) and no ${DATA_FILE}: give a new or empty directory`,
    );
  }
  if (!ours && !create) throw new JournalError(dir, `holds no ${DATA_FILE}`);
  if (!create) return;
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new JournalError(dir, code === 'EROFS' ? 'is on a read-only file system (EROFS)' : `cannot be written (${code})`);
  }
}

export class SqliteJournal implements JournalPort {
  private header: CheckpointHeader | undefined;
  private checkpointId: number | undefined;
  private parts: number | undefined;

  private constructor(
    readonly location: string,
    private readonly file: string,
    private readonly thread: WriterThread,
    private readonly info: OpenInfo,
  ) {
    if (info.checkpoint) {
      this.checkpointId = info.checkpoint.id;
      this.header = this.parseHeader(info.checkpoint.header);
    }
  }

  /** Opens (or creates) the journal in `dir`. Throws a JournalError naming the path and the cause. */
  static async open(dir: string, options: SqliteJournalOptions): Promise<SqliteJournal> {
    const location = resolve(dir);
    prepareDirectory(location, !options.readonly);
    const file = join(location, DATA_FILE);
    const thread = new WriterThread();
    try {
      const info = await thread.request<OpenInfo>({
        op: 'open',
        path: file,
        sync: options.sync ? 'FULL' : 'OFF',
        readonly: options.readonly ?? false,
      });
      return new SqliteJournal(location, file, thread, info);
    } catch (error) {
      await thread.terminate();
      throw failure(file, error, 'cannot be opened');
    }
  }

  /** Whether the directory was empty and a journal was created in it. */
  get created(): boolean {
    return this.info.created;
  }

  async state(): Promise<StoredState> {
    return { checkpoint: this.header, lastLsn: this.info.lastLsn, lastSeq: this.info.lastSeq };
  }

  append(batch: JournalBatch): Promise<void> {
    const body = encodeEntries(batch.entries);
    const row: BatchRow = {
      first: batch.first,
      last: batch.last,
      lastSeq: batch.lastSeq,
      crc: batchCrc(batch.first, batch.last, batch.lastSeq, body),
      body,
    };
    const archives: ArchiveRow[] = [];
    const deletes: string[] = [];
    for (const e of batch.entries) {
      if (e.kind === 'archived' && e.state !== undefined) {
        archives.push({
          taskId: e.taskId,
          projectId: e.projectId,
          archivedAt: e.at,
          expiresAt: e.expiresAt,
          crc: archiveCrc(e.taskId, e.expiresAt, e.state),
          body: e.state,
        });
      } else if (e.kind === 'deleted') deletes.push(e.deleted.taskId);
    }
    return this.thread.request({ op: 'append', row, archives, deletes });
  }

  /** The thread reads the next chunk while this one is decoded and replayed. */
  async *read(after: number): AsyncIterable<JournalBatch> {
    type Chunk = { rows: BatchRow[]; more: boolean };
    const fetch = (from: number) => this.reading<Chunk>({ op: 'read', after: from, maxBytes: READ_CHUNK });
    for (let next: Promise<Chunk> | undefined = fetch(after); next !== undefined; ) {
      const chunk: Chunk = await next;
      next = chunk.more ? fetch(chunk.rows[chunk.rows.length - 1].last) : undefined;
      for (const row of chunk.rows) {
        if (batchCrc(row.first, row.last, row.lastSeq, row.body) !== row.crc) {
          throw new JournalError(this.file, `the journal batch at positions ${row.first}..${row.last} is corrupt (checksum mismatch)`);
        }
        yield {
          first: row.first,
          last: row.last,
          lastSeq: row.lastSeq,
          entries: this.decode(() => decodeEntries(row.body), `the journal batch at positions ${row.first}..${row.last}`),
        };
      }
    }
  }

  async *readCheckpoint(): AsyncIterable<DecodedCheckpointPart> {
    const { checkpointId: id, header } = this;
    if (id === undefined || header === undefined) return;
    type Chunk = { parts: { part: number; crc: number; body: Uint8Array }[]; more: boolean };
    const fetch = (fromPart: number) => this.reading<Chunk>({ op: 'readCheckpoint', checkpointId: id, fromPart, maxBytes: READ_CHUNK });
    let expected = 0;
    for (let next: Promise<Chunk> | undefined = fetch(0); next !== undefined; ) {
      const chunk: Chunk = await next;
      next = chunk.more ? fetch(chunk.parts[chunk.parts.length - 1].part + 1) : undefined;
      for (const p of chunk.parts) {
        const where = `part ${p.part} of the checkpoint at position ${header.lsn}`;
        if (p.part !== expected)
          throw new JournalError(this.file, `part ${expected} of the checkpoint at position ${header.lsn} is missing`);
        if (partCrc(header, p.part, p.body) !== p.crc) throw new JournalError(this.file, `${where} is corrupt (checksum mismatch)`);
        yield this.decode(() => decodeCheckpointPart(p.body), where);
        expected++;
      }
    }
    if (expected !== (await this.stateParts()))
      throw new JournalError(this.file, `the checkpoint at position ${header.lsn} is missing parts`);
  }

  async writeCheckpoint(header: CheckpointHeader, parts: AsyncIterable<CheckpointPart>): Promise<void> {
    const id = await this.thread.request<number>({
      op: 'checkpointBegin',
      lsn: header.lsn,
      seq: header.seq,
      header: JSON.stringify(header),
    });
    let n = 0;
    for await (const part of parts) {
      const body = toJsonBytes(part);
      await this.thread.request({ op: 'checkpointPart', checkpointId: id, part: n, crc: partCrc(header, n, body), body });
      n++;
    }
    await this.thread.request({ op: 'checkpointEnd', checkpointId: id, parts: n });
    this.checkpointId = id;
    this.header = header;
    this.parts = n;
  }

  dropBefore(lsn: number, keepSeqAbove: number): Promise<void> {
    return this.thread.request({ op: 'drop', lsn, keepSeqAbove });
  }

  async readArchived(taskId: string): Promise<ArchivedTask | undefined> {
    const row = await this.reading<ArchiveRow | undefined>({ op: 'readArchived', taskId });
    if (row === undefined) return undefined;
    const where = `the archived task ${taskId}`;
    if (archiveCrc(row.taskId, row.expiresAt, row.body) !== row.crc)
      throw new JournalError(this.file, `${where} is corrupt (checksum mismatch)`);
    return {
      taskId: row.taskId,
      projectId: row.projectId,
      archivedAt: row.archivedAt,
      expiresAt: row.expiresAt,
      parts: this.decode(() => decodeTask(row.body), where),
    };
  }

  expireArchived(now: number): Promise<number> {
    return this.thread.request<number>({ op: 'expire', now });
  }

  probe(): Promise<void> {
    return this.thread.request({ op: 'probe' });
  }

  /** SQLite's own integrity check of the whole file: the problems it finds, none when sound. */
  integrityProblems(): Promise<string[]> {
    return this.reading<string[]>({ op: 'verify' });
  }

  /** The ids of the archived tasks, to check each one. */
  archivedIds(): Promise<string[]> {
    return this.reading<string[]>({ op: 'archiveIds' });
  }

  async close(): Promise<void> {
    try {
      await this.thread.request({ op: 'close' });
    } finally {
      await this.thread.terminate();
    }
  }

  /** A read: what SQLite reports goes out as a JournalError naming the file. */
  private async reading<T>(r: Request): Promise<T> {
    try {
      return await this.thread.request<T>(r);
    } catch (error) {
      throw failure(this.file, error, 'cannot be read');
    }
  }

  private async stateParts(): Promise<number> {
    return this.parts ?? this.info.checkpoint?.parts ?? 0;
  }

  private parseHeader(text: string): CheckpointHeader {
    return this.decode(() => {
      const h = JSON.parse(text) as CheckpointHeader;
      for (const k of ['lsn', 'seq', 'projects', 'tasks', 'nodes', 'highestTaskId'] as const)
        if (!Number.isSafeInteger(h[k])) throw new TypeError(`header: ${k} is malformed`);
      return h;
    }, 'the latest checkpoint header');
  }

  private decode<T>(run: () => T, where: string): T {
    try {
      return run();
    } catch (error) {
      throw new JournalError(this.file, `${where} cannot be read (${(error as Error).message})`, { cause: error });
    }
  }
}

function decodeCheckpointPart(body: Uint8Array): DecodedCheckpointPart {
  const a = fromJsonBytes(body);
  if (Array.isArray(a) && a[0] === 'projects') {
    if (!Array.isArray(a[1])) throw new TypeError('projects: not a list');
    return { kind: 'projects', projects: (a[1] as unknown[]).map(decodeProject) as Project[] };
  }
  return decodeTaskPart(a);
}
