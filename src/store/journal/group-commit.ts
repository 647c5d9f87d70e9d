/**
 * Group commit: the store applies each change in memory at once (its API stays synchronous) and
 * hands the result here; changes are written to the port in batches, one batch in flight at a
 * time, so that every change arriving during a write shares the next one. The event loop never
 * waits on the disk: the port writes off the main thread and resolves a promise.
 *
 * Modes (after Redis's appendfsync):
 * - `always`: a batch is written and fsynced as soon as the previous one is done.
 * - `batch` (default): at most one write (with its fsync) every `batchMs`; a change waits at
 *   most that long plus one write.
 * - `off`: written as soon as possible but never fsynced: safe when the process dies, not when
 *   the machine does (the port opens the storage without sync).
 * A change is durable (whenDurable resolves, node_durable is emitted, an HTTP command answers)
 * once its batch is written under the mode.
 *
 * When a write fails, the batch and everything accepted after it are undone in memory (the
 * store goes back to its mark at the last durable batch: the immutable tree makes this O(1)),
 * their waiters are rejected with 3599999 "journal unavailable", and writes are refused until a
 * probe write succeeds again (every `retryMs`). Reads go on throughout.
 */
import type { PipelineDefinition, Project, Task } from '../../model/index.js';
import type { NodeChange, TaskCreated, TaskDeleted } from '../events.js';
import { seqOf, type ArchivedEntry, type JournalBatch, type JournalEntry } from './entries.js';
import { journalUnavailable, storageReason } from './errors.js';
import type { JournalHold, StoreMark } from './hold.js';
import type { JournalPort } from './port.js';
import type { ChangeSink, JournalStatus } from './sink.js';
import type { TimerHandle, Timers } from './timers.js';

export const DURABILITY_MODES = ['always', 'batch', 'off'] as const;
export type DurabilityMode = (typeof DURABILITY_MODES)[number];

export interface GroupCommitOptions {
  readonly mode: DurabilityMode;
  /** `batch`: at most one write (and fsync) per this many ms; default 5 */
  readonly batchMs: number;
  /** accepted changes not yet durable beyond which writes are refused (the disk is behind); default 200,000 */
  readonly maxPending: number;
  /** ms between probe writes while the journal is unavailable; default 1,000 */
  readonly retryMs: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { mode: 'batch', batchMs: 5, maxPending: 200_000, retryMs: 1_000 };

/** What group commit reports to whoever watches it (the engine: logs, checkpoints, health). */
export interface GroupCommitEvents {
  /** a batch is durable: positions up to `lsn` */
  written?(lsn: number, entries: number): void;
  /** a write failed; the store was rolled back to the last durable batch */
  failed?(error: unknown, discarded: number): void;
  /** a probe write succeeded: writes are accepted again */
  recovered?(): void;
}

interface Waiter {
  readonly until: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** Waiters in the order they wait for: positions only grow, so each queue resolves from its front. */
class WaitQueue {
  private readonly items: Waiter[] = [];

  wait(until: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = { until, resolve, reject };
      let i = this.items.length;
      while (i > 0 && this.items[i - 1].until > until) i--;
      this.items.splice(i, 0, w);
    });
  }

  resolveUpTo(position: number): void {
    let n = 0;
    while (n < this.items.length && this.items[n].until <= position) n++;
    for (const w of this.items.splice(0, n)) w.resolve();
  }

  rejectAll(error: Error): void {
    for (const w of this.items.splice(0)) w.reject(error);
  }
}

export class GroupCommit implements ChangeSink {
  /** the last position handed out */
  private lsn: number;
  private durableLsn: number;
  private durableSeq: number;
  private durableMark: StoreMark;
  private open: JournalEntry[] = [];
  private inflight: { readonly batch: JournalBatch; readonly mark: StoreMark } | undefined;
  private timer: TimerHandle | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private failure: unknown;
  private probing: TimerHandle | undefined;
  private closed = false;
  private readonly byLsn = new WaitQueue();
  private readonly bySeq = new WaitQueue();

  constructor(
    private readonly port: JournalPort,
    private readonly hold: JournalHold,
    private readonly options: GroupCommitOptions,
    private readonly timers: Timers,
    private readonly events: GroupCommitEvents = {},
    start: { readonly lsn: number },
  ) {
    this.lsn = start.lsn;
    this.durableLsn = start.lsn;
    this.durableSeq = hold.seq;
    this.durableMark = hold.mark();
  }

  // -------------------------------------------------------------------------------------------
  // ChangeSink: the store, synchronously

  admit(): void {
    if (this.closed) throw journalUnavailable('the engine is closed');
    if (this.failure !== undefined) throw journalUnavailable(storageReason(this.failure));
    if (this.lsn - this.durableLsn >= this.options.maxPending) throw journalUnavailable('changes arrive faster than the disk takes them');
  }

  project(project: Project): void {
    this.add({ kind: 'project', project });
  }

  task(created: TaskCreated, task: Task, definition: PipelineDefinition): void {
    this.add({ kind: 'task', created, task, definition });
  }

  nodes(changes: readonly NodeChange[], ended: boolean): void {
    this.add({ kind: 'nodes', changes, ended });
  }

  deleted(deleted: TaskDeleted): void {
    this.add({ kind: 'deleted', deleted });
  }

  /** A task leaving memory for the archive: the caller has taken it out of the store already. */
  archived(entry: ArchivedEntry): void {
    this.add(entry);
  }

  whenDurable(cursor: number): Promise<void> {
    return cursor <= this.durableSeq ? Promise.resolve() : this.bySeq.wait(cursor);
  }

  durable(): Promise<void> {
    return this.whenPosition(this.lsn);
  }

  status(): JournalStatus {
    return {
      storage: this.port.location,
      mode: this.options.mode,
      journal: this.unavailable ?? 'ok',
      accepted: this.lsn,
      durable: this.durableLsn,
    };
  }

  // -------------------------------------------------------------------------------------------
  // For the engine

  /** The last position handed out, and the last durable one. */
  get positions(): { readonly accepted: number; readonly durable: number } {
    return { accepted: this.lsn, durable: this.durableLsn };
  }

  /** Why writes are refused now, or undefined when they are accepted. */
  get unavailable(): string | undefined {
    if (this.closed) return 'the engine is closed';
    return this.failure === undefined ? undefined : storageReason(this.failure);
  }

  whenPosition(lsn: number): Promise<void> {
    return lsn <= this.durableLsn ? Promise.resolve() : this.byLsn.wait(lsn);
  }

  /** Writes what is pending, then refuses every further change. */
  async close(): Promise<void> {
    if (this.open.length > 0 || this.inflight) await this.durable().catch(() => {});
    this.closed = true;
    if (this.timer) this.timers.cancel(this.timer);
    if (this.probing) this.timers.cancel(this.probing);
    this.timer = this.probing = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Batching

  private add(entry: JournalEntry): void {
    this.open.push(entry);
    this.lsn++;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.inflight !== undefined || this.open.length === 0) return;
    const wait = this.options.mode === 'batch' ? Math.max(0, this.lastWriteAt + this.options.batchMs - this.timers.now()) : 0;
    this.timer = this.timers.schedule(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.inflight !== undefined || this.open.length === 0) return;
    const entries = this.open;
    this.open = [];
    let lastSeq = this.durableSeq;
    for (let k = entries.length - 1; k >= 0; k--) {
      const s = seqOf(entries[k]);
      if (s !== undefined) {
        lastSeq = s;
        break;
      }
    }
    const batch: JournalBatch = { first: this.lsn - entries.length + 1, last: this.lsn, lastSeq, entries };
    // The store as it is now is exactly the state after this batch: every change accepted so far is in it.
    const mark = this.hold.mark();
    this.inflight = { batch, mark };
    this.lastWriteAt = this.timers.now();
    let settled: Promise<void>;
    try {
      settled = this.port.append(batch);
    } catch (error) {
      settled = Promise.reject(error);
    }
    settled.then(
      () => this.written(),
      (error: unknown) => this.failed(error),
    );
  }

  private written(): void {
    const { batch, mark } = this.inflight!;
    this.inflight = undefined;
    this.durableLsn = batch.last;
    this.durableSeq = batch.lastSeq;
    this.durableMark = mark;
    for (const e of batch.entries) if (e.kind === 'nodes') this.hold.publishDurable(e.changes);
    this.byLsn.resolveUpTo(this.durableLsn);
    this.bySeq.resolveUpTo(this.durableSeq);
    this.events.written?.(batch.last, batch.entries.length);
    this.schedule();
  }

  private failed(error: unknown): void {
    const discarded = [...(this.inflight?.batch.entries ?? []), ...this.open];
    this.inflight = undefined;
    this.open = [];
    if (this.timer) this.timers.cancel(this.timer);
    this.timer = undefined;
    this.failure = error;
    this.hold.restore(this.durableMark, discarded);
    this.lsn = this.durableLsn;
    const refusal = journalUnavailable(storageReason(error));
    this.byLsn.rejectAll(refusal);
    this.bySeq.rejectAll(refusal);
    this.events.failed?.(error, discarded.length);
    this.probeLater();
  }

  private probeLater(): void {
    if (this.closed) return;
    this.probing = this.timers.schedule(() => {
      this.probing = undefined;
      this.port.probe().then(
        () => {
          this.failure = undefined;
          this.events.recovered?.();
        },
        (error: unknown) => {
          this.failure = error;
          this.probeLater();
        },
      );
    }, this.options.retryMs);
  }
}
