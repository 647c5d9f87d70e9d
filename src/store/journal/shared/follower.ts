/**
 * The follower: the one way a change reaches an instance's memory in a shared deployment, its
 * own changes included. It reads the shared journal in journal order, numbers each change with
 * the next seq (every instance applies the same entries in the same order, so every instance
 * gives a change the same seq: cursors are global), replays it through the journal's hold (no
 * clock, no versions: results, not decisions) and publishes it to the instance's listeners.
 *
 * It reads when woken: by a notification (another writer committed), by a command that waits
 * for a position, and by a poll every `pollMs` in case a notification was lost. When the
 * database cannot be read it retries with a growing delay and says since when it could not.
 */
import type { ChangeFeed, NodeChange } from '../../events.js';
import type { JournalEntry } from '../entries.js';
import { journalUnavailable } from '../errors.js';
import type { JournalHold } from '../hold.js';
import type { TimerHandle, Timers } from '../timers.js';
import { databaseReason } from '../postgres/connection.js';
import { ORIGIN, atOrAfter, comparePositions, positionText, type Position } from './position.js';
import type { SharedJournalPort } from './port.js';

export interface FollowerOptions {
  /** ms between polls when no notification comes; default 500 */
  readonly pollMs: number;
  /** rows per read; default 1,000 */
  readonly pageSize: number;
  /** first and longest delay between reads while the database cannot be read; default 100 / 5,000 ms */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/** transactions whose entries the follower keeps after applying them (a writer asks right after committing) */
const RECENT = 4_096;

export const DEFAULT_FOLLOWER: FollowerOptions = { pollMs: 500, pageSize: 1_000, retryMinMs: 100, retryMaxMs: 5_000 };

/** A waiter for a position, or for a seq. */
interface Waiter {
  readonly done: (follower: Follower) => boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer?: TimerHandle;
}

/** A writer waiting for its own transaction's entries to be applied, to answer with their seqs. */
interface Expected {
  readonly count: number;
  readonly entries: JournalEntry[];
  readonly resolve: (entries: readonly JournalEntry[]) => void;
}

/** The entry with its seqs counted from `next` (the writer's seqs were provisional). */
export function numbered(entry: JournalEntry, next: number): JournalEntry {
  switch (entry.kind) {
    case 'task':
      return { ...entry, created: Object.freeze({ ...entry.created, seq: next }) };
    case 'nodes':
      return { ...entry, changes: entry.changes.map((c, k) => Object.freeze({ ...c, seq: next + k })) };
    case 'deleted':
      return { ...entry, deleted: Object.freeze({ ...entry.deleted, seq: next }) };
    default:
      return entry;
  }
}

/** How many seqs an entry takes. */
export function seqCount(entry: JournalEntry): number {
  switch (entry.kind) {
    case 'task':
    case 'deleted':
      return 1;
    case 'nodes':
      return entry.changes.length;
    default:
      return 0;
  }
}

export class Follower {
  private at: Position = ORIGIN;
  private applied = 0;
  private reading = false;
  private again = false;
  private waiters: Waiter[] = [];
  private readonly expected = new Map<bigint, Expected>();
  /** the entries of the transactions applied last, for a writer that asks just after its commit */
  private readonly recent = new Map<bigint, JournalEntry[]>();
  private pollTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private retryDelay = 0;
  /** ms before looking again for a position a waiter needs: doubles while it stays out of reach */
  private waitDelay = 1;
  private stopListening: (() => Promise<void>) | undefined;
  private listening = false;
  private failure: { readonly reason: string; readonly since: number } | undefined;
  private fatal: string | undefined;
  private lastReadAt: number;
  private closed = false;
  /** node changes applied while `recording` (the tail at boot), for watchers resuming across a restart */
  private recording: NodeChange[] | undefined;

  constructor(
    private readonly port: SharedJournalPort,
    private readonly hold: JournalHold,
    private readonly feed: ChangeFeed,
    private readonly timers: Timers,
    private readonly options: FollowerOptions,
    private readonly log: (message: string, error?: unknown) => void,
  ) {
    this.lastReadAt = timers.now();
  }

  /** Where a checkpoint left the state: reading continues after `position`. */
  startAt(position: Position, entries: number): void {
    this.at = position;
    this.applied = entries;
  }

  get position(): Position {
    return this.at;
  }

  /** the seq of the last change applied: this instance's cursor */
  get seq(): number {
    return this.hold.seq;
  }

  /** entries applied since the journal began */
  get entries(): number {
    return this.applied;
  }

  /** Why reads fail now (and since when, on the timers' clock), or undefined. */
  get unavailable(): { readonly reason: string; readonly since: number } | undefined {
    if (this.fatal !== undefined) return { reason: this.fatal, since: this.lastReadAt };
    return this.failure;
  }

  /** ms since the journal was last read successfully */
  get staleMs(): number {
    return Math.max(0, this.timers.now() - this.lastReadAt);
  }

  /** Reads until nothing more can be read now (boot), recording the node changes it applies. */
  async catchUp(record: number): Promise<readonly NodeChange[]> {
    this.recording = [];
    try {
      while ((await this.readOnce()) > 0) {
        if (this.recording.length > 2 * record) this.recording.splice(0, this.recording.length - record);
      }
      return this.recording.slice(-record);
    } finally {
      this.recording = undefined;
    }
  }

  /** Listens for notifications and polls from now on. */
  async start(): Promise<void> {
    await this.listen();
    this.schedulePoll();
  }

  /** Reads soon (now, unless a read is already running: then once more after it). */
  kick(): void {
    if (this.closed || this.fatal !== undefined) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.loop();
  }

  /** Resolves once every entry up to `target` is applied; rejects after `timeoutMs`. */
  until(target: Position, timeoutMs: number, what: () => string): Promise<void> {
    return this.wait((f) => atOrAfter(f.at, target), timeoutMs, what);
  }

  /** Resolves once the change with seq `seq` is applied; rejects after `timeoutMs`. */
  untilSeq(seq: number, timeoutMs: number, what: () => string): Promise<void> {
    return this.wait((f) => f.seq >= seq, timeoutMs, what);
  }

  /**
   * The entries of transaction `xid` (there are `count`), as applied here with their seqs: at once
   * when it was applied a moment ago (the last RECENT transactions are kept for this), else when it is.
   */
  expect(xid: bigint, count: number): { readonly applied: Promise<readonly JournalEntry[]>; readonly cancel: () => void } {
    const already = this.recent.get(xid) ?? [];
    if (already.length === count) return { applied: Promise.resolve(already), cancel: () => undefined };
    let resolve!: (entries: readonly JournalEntry[]) => void;
    const applied = new Promise<readonly JournalEntry[]>((r) => {
      resolve = r;
    });
    this.expected.set(xid, { count, entries: [...already], resolve });
    return { applied, cancel: () => this.expected.delete(xid) };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) this.timers.cancel(this.pollTimer);
    if (this.retryTimer) this.timers.cancel(this.retryTimer);
    this.pollTimer = this.retryTimer = undefined;
    const refusal = journalUnavailable('the engine is closed');
    for (const w of this.waiters.splice(0)) this.settle(w, refusal);
    await this.stopListening?.();
    this.stopListening = undefined;
  }

  // -------------------------------------------------------------------------------------------

  private wait(done: (f: Follower) => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (done(this)) return Promise.resolve();
    if (this.fatal !== undefined) return Promise.reject(journalUnavailable(this.fatal));
    return new Promise((resolve, reject) => {
      const w: Waiter = { done, resolve, reject };
      w.timer = this.timers.schedule(() => {
        w.timer = undefined;
        this.waiters = this.waiters.filter((x) => x !== w);
        const down = this.failure === undefined ? '' : ` (${this.failure.reason})`;
        reject(journalUnavailable(`${what()}: not applied on this instance within ${timeoutMs} ms${down}`));
      }, timeoutMs);
      this.waiters.push(w);
      this.kick();
    });
  }

  private settle(w: Waiter, error?: Error): void {
    if (w.timer) this.timers.cancel(w.timer);
    if (error) w.reject(error);
    else w.resolve();
  }

  private async loop(): Promise<void> {
    let full = false;
    try {
      do {
        this.again = false;
        const n = await this.readOnce();
        // at once, not when the loop ends: under steady notifications it may not end for a while
        if (this.failure !== undefined || !this.listening) this.recovered();
        full = n >= this.options.pageSize;
      } while ((this.again || full) && !this.closed && this.fatal === undefined);
    } catch (error) {
      this.lost(error);
    } finally {
      this.reading = false;
    }
    // Someone waits for a position the horizon has not passed yet (a transaction before it is
    // still open): look again shortly, sooner than the poll.
    if (this.failure === undefined && this.waiters.length > 0 && !this.closed && this.retryTimer === undefined) {
      this.waitDelay = Math.min(64, this.waitDelay * 2);
      this.retryTimer = this.timers.schedule(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.waitDelay);
    } else if (this.waiters.length === 0) {
      this.waitDelay = 1;
    }
  }

  /** One read and its application; resolves with the number of rows read. */
  private async readOnce(): Promise<number> {
    const { rows, floor } = await this.port.read(this.at, this.options.pageSize);
    this.lastReadAt = this.timers.now();
    if (floor !== undefined && comparePositions(this.at, floor) < 0) {
      this.halt(
        `this instance fell behind the journal (it applied up to ${positionText(this.at)}, the journal keeps rows after ${positionText(floor)}): restart it to reload from the latest checkpoint`,
      );
      return 0;
    }
    for (const row of rows) {
      if (comparePositions(row.position, this.at) <= 0) continue;
      try {
        this.apply(row.position, row.entry);
      } catch (error) {
        this.halt(`the journal entry at ${positionText(row.position)} does not apply: ${(error as Error).message}`);
        this.log('the shared journal does not replay; this instance stops applying it', error);
        return 0;
      }
    }
    this.release();
    return rows.length;
  }

  private apply(position: Position, raw: JournalEntry): void {
    const entry = numbered(raw, this.hold.seq + 1);
    this.hold.replay(entry);
    this.at = position;
    this.applied++;
    this.publish(entry);
    const same = this.recent.get(position.xid);
    if (same !== undefined) same.push(entry);
    else {
      this.recent.set(position.xid, [entry]);
      if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
    }
    const mine = this.expected.get(position.xid);
    if (mine !== undefined) {
      mine.entries.push(entry);
      if (position.n === mine.count - 1) {
        this.expected.delete(position.xid);
        mine.resolve(mine.entries);
      }
    }
  }

  private publish(entry: JournalEntry): void {
    const feed = this.feed;
    switch (entry.kind) {
      case 'task':
        if (feed.listening('task')) feed.publish('task', entry.created);
        return;
      case 'nodes':
        if (this.recording) for (const c of entry.changes) this.recording.push(c);
        if (feed.listening('node')) for (const c of entry.changes) feed.publish('node', c);
        // applied here means committed in the database: durable
        if (feed.listening('node_durable')) for (const c of entry.changes) feed.publish('node_durable', c);
        return;
      case 'deleted':
        if (feed.listening('task_deleted')) feed.publish('task_deleted', entry.deleted);
        return;
      default:
    }
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.done(this));
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !w.done(this));
    for (const w of ready) this.settle(w);
  }

  private halt(reason: string): void {
    this.fatal = reason;
    const refusal = journalUnavailable(reason);
    for (const w of this.waiters.splice(0)) this.settle(w, refusal);
  }

  private recovered(): void {
    if (this.failure !== undefined)
      this.log(`the shared journal is readable again (it was not for ${Math.round(this.timers.now() - this.failure.since)} ms)`);
    this.failure = undefined;
    this.retryDelay = 0;
    if (!this.listening && !this.closed) void this.listen().catch(() => undefined);
  }

  private lost(error: unknown): void {
    if (this.failure === undefined) {
      this.failure = { reason: databaseReason(error), since: this.timers.now() };
      this.log('the shared journal cannot be read; commands are refused, queries answer from memory', error);
    }
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryDelay = Math.min(this.options.retryMaxMs, Math.max(this.options.retryMinMs, this.retryDelay * 2));
    this.retryTimer = this.timers.schedule(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retryDelay);
  }

  private async listen(): Promise<void> {
    if (this.listening || this.closed) return;
    this.listening = true;
    try {
      this.stopListening = await this.port.listen(
        () => this.kick(),
        (error) => {
          this.listening = false;
          this.stopListening = undefined;
          this.lost(error);
        },
      );
    } catch (error) {
      this.listening = false;
      throw error;
    }
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = this.timers.schedule(() => {
      this.pollTimer = undefined;
      this.kick();
      this.schedulePoll();
    }, this.options.pollMs);
  }
}
