/**
 * A journal port in memory, for the suites that drive group commit by hand: each append waits
 * until the test settles it (or settles at once), and can be made to fail. It stores what the
 * SQLite port stores, encoded by the same codec (entries and checkpoint parts as bytes, decoded on
 * the way back), so recovery over it exercises everything but SQLite itself.
 */
import type {
  ArchivedTask,
  CheckpointHeader,
  CheckpointPart,
  DecodedCheckpointPart,
  JournalBatch,
  JournalPort,
  StoredState,
} from '../../src/store/journal/index.js';
import { decodeEntries, decodeProject, decodeTask, decodeTaskPart, encodeEntries } from '../../src/store/journal/codec.js';

interface Pending {
  readonly batch: JournalBatch;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class MemoryPort implements JournalPort {
  readonly location = 'memory';
  /** what was written, decoded (the bytes are in `stored`) */
  readonly batches: JournalBatch[] = [];
  private readonly stored: { first: number; last: number; lastSeq: number; body: Buffer }[] = [];
  readonly pending: Pending[] = [];
  checkpoint: { header: CheckpointHeader; parts: unknown[] } | undefined;
  /** settle appends as they come (true) or leave them to settle()/fail() */
  auto = true;
  /** the next appends and probes fail with this */
  failWith: unknown;
  probes = 0;

  private last = { lsn: 0, seq: 0 };
  private readonly archive = new Map<string, { row: Omit<ArchivedTask, 'parts'>; body: Uint8Array }>();

  async state(): Promise<StoredState> {
    return { checkpoint: this.checkpoint?.header, lastLsn: this.last.lsn, lastSeq: this.last.seq };
  }

  append(batch: JournalBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      const p: Pending = { batch, resolve, reject };
      if (!this.auto) this.pending.push(p);
      else this.settleOne(p);
    });
  }

  /** Settles the oldest waiting append as the port would: written, or failed with `failWith`. */
  settle(): void {
    const p = this.pending.shift();
    if (p === undefined) throw new Error('no append is waiting');
    this.settleOne(p);
  }

  private settleOne(p: Pending): void {
    if (this.failWith !== undefined) {
      p.reject(this.failWith);
      return;
    }
    this.batches.push(p.batch);
    this.last = { lsn: p.batch.last, seq: p.batch.lastSeq };
    for (const e of p.batch.entries) {
      if (e.kind === 'archived' && e.state)
        this.archive.set(e.taskId, {
          row: { taskId: e.taskId, projectId: e.projectId, archivedAt: e.at, expiresAt: e.expiresAt },
          body: e.state,
        });
      if (e.kind === 'deleted') this.archive.delete(e.deleted.taskId);
    }
    this.stored.push({ first: p.batch.first, last: p.batch.last, lastSeq: p.batch.lastSeq, body: encodeEntries(p.batch.entries) });
    p.resolve();
  }

  async *read(after: number): AsyncIterable<JournalBatch> {
    for (const b of this.stored)
      if (b.last > after) yield { first: b.first, last: b.last, lastSeq: b.lastSeq, entries: decodeEntries(b.body) };
  }

  async *readCheckpoint(): AsyncIterable<DecodedCheckpointPart> {
    for (const p of this.checkpoint?.parts ?? []) {
      const a = p as unknown[];
      yield a[0] === 'projects'
        ? { kind: 'projects', projects: (a[1] as unknown[]).map(decodeProject) }
        : decodeTaskPart(JSON.parse(JSON.stringify(a)));
    }
  }

  async writeCheckpoint(header: CheckpointHeader, parts: AsyncIterable<CheckpointPart>): Promise<void> {
    const all: unknown[] = [];
    for await (const p of parts) all.push(JSON.parse(JSON.stringify(p)));
    this.checkpoint = { header, parts: all };
  }

  async dropBefore(lsn: number, keepSeqAbove: number): Promise<void> {
    const keep = (b: { last: number; lastSeq: number }) => !(b.last <= lsn && b.lastSeq <= keepSeqAbove);
    this.batches.splice(0, this.batches.length, ...this.batches.filter(keep));
    this.stored.splice(0, this.stored.length, ...this.stored.filter(keep));
  }

  async readArchived(taskId: string): Promise<ArchivedTask | undefined> {
    const a = this.archive.get(taskId);
    return a && { ...a.row, parts: decodeTask(a.body) };
  }

  async expireArchived(now: number): Promise<number> {
    const gone = [...this.archive].filter(([, a]) => a.row.expiresAt <= now).map(([id]) => id);
    for (const id of gone) this.archive.delete(id);
    return gone.length;
  }

  async probe(): Promise<void> {
    this.probes++;
    if (this.failWith !== undefined) throw this.failWith;
  }

  async close(): Promise<void> {}
}
