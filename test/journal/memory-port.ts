/**
 * A journal port in memory, for the suites that drive group commit by hand: each append waits
 * until the test settles it (or settles at once), and can be made to fail. It keeps batches and
 * checkpoints as the real port would (decoded entries, not bytes), so recovery runs against it too.
 */
import type {
  ArchivedTask, CheckpointHeader, CheckpointPart, DecodedCheckpointPart, JournalBatch, JournalPort, StoredState,
} from '../../src/store/journal/index.js';
import { decodeProject, decodeTaskPart } from '../../src/store/journal/codec.js';

interface Pending {
  readonly batch: JournalBatch;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class MemoryPort implements JournalPort {
  readonly location = 'memory';
  readonly batches: JournalBatch[] = [];
  readonly pending: Pending[] = [];
  checkpoint: { header: CheckpointHeader; parts: unknown[] } | undefined;
  /** settle appends as they come (true) or leave them to settle()/fail() */
  auto = true;
  /** the next appends and probes fail with this */
  failWith: unknown;
  probes = 0;

  async state(): Promise<StoredState> {
    const last = this.batches[this.batches.length - 1];
    return { checkpoint: this.checkpoint?.header, lastLsn: last?.last ?? this.checkpoint?.header.lsn ?? 0, lastSeq: last?.lastSeq ?? this.checkpoint?.header.seq ?? 0 };
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
    p.resolve();
  }

  async *read(after: number): AsyncIterable<JournalBatch> {
    for (const b of this.batches) if (b.last > after) yield b;
  }

  async *readCheckpoint(): AsyncIterable<DecodedCheckpointPart> {
    for (const p of this.checkpoint?.parts ?? []) {
      const a = p as unknown[];
      yield a[0] === 'projects' ? { kind: 'projects', projects: (a[1] as unknown[]).map(decodeProject) } : decodeTaskPart(JSON.parse(JSON.stringify(a)));
    }
  }

  async writeCheckpoint(header: CheckpointHeader, parts: AsyncIterable<CheckpointPart>): Promise<void> {
    const all: unknown[] = [];
    for await (const p of parts) all.push(JSON.parse(JSON.stringify(p)));
    this.checkpoint = { header, parts: all };
  }

  async dropBefore(lsn: number, keepSeqAbove: number): Promise<void> {
    const keep = this.batches.filter((b) => !(b.last <= lsn && b.lastSeq <= keepSeqAbove));
    this.batches.splice(0, this.batches.length, ...keep);
  }

  async readArchived(): Promise<ArchivedTask | undefined> {
    return undefined;
  }

  async expireArchived(): Promise<number> {
    return 0;
  }

  async probe(): Promise<void> {
    this.probes++;
    if (this.failWith !== undefined) throw this.failWith;
  }

  async close(): Promise<void> {}
}

