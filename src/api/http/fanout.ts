/**
 * Delivering logged changes to watch streams.
 *
 * - **Once per change.** A change's `change` event is encoded once, into the change log, and the
 *   same bytes go to every watcher; the node's place in its task (for subtree filters) is found
 *   once too. Watchers are grouped by task, so a change costs nothing for the others.
 * - **After the request.** The engine calls the log, and the log calls this, inside the request
 *   that made the change; all that happens there is scheduling a flush. Delivery runs later, at
 *   most once per `flushIntervalMs`, all the changes since the last flush together, one write
 *   per watcher. A write costs a few microseconds whatever it carries, so the interval also
 *   stretches with the cost of the last flush: fan-out takes at most a tenth of the event loop
 *   (a flush that took 3 ms is followed by 27 ms without one). 500 watchers then cost a
 *   node_event a fraction of a millisecond, and each watcher hears of a change within
 *   `flushIntervalMs`, or nine times the last round's cost when that is more, but never more
 *   than ten intervals (100 ms by default).
 * - **Paced.** Each watcher holds a cursor into the log and reads on from it, at most
 *   `highWaterBytes` per flush; when its socket is full it waits for 'drain' and reads on from
 *   the log then. A watcher that falls behind (or reconnects far behind) costs a cursor, never a
 *   queue, and catches up as fast as it reads. When the log no longer holds its cursor, the
 *   watcher is told (`lost`), and starts again from a full status.
 */
import type { ServerResponse } from 'node:http';
import type { PipelineDefinition } from '../../model/index.js';
import type { NodeChange } from '../../store/index.js';
import type { ChangeLog, LogEntry } from './change-log.js';
import { changeFrame } from './sse-events.js';

export interface FanoutOptions {
  /** bytes written to one watcher per flush before waiting for its socket to drain; default 64 KiB */
  readonly highWaterBytes: number;
  /** ms between two deliveries at most; changes in between go out together. Default 10 */
  readonly flushIntervalMs: number;
  /** ms, for `blockedSince`; default Date.now */
  readonly now: () => number;
}

export const DEFAULT_FANOUT: FanoutOptions = { highWaterBytes: 64 * 1024, flushIntervalMs: 10, now: Date.now };

/** The share of the event loop fan-out may take: after a round of d ms, none for d × (1 / share − 1). */
const FANOUT_SHARE = 0.1;
/** ms of deliveries before a round lets the event loop run */
const ROUND_SLICE_MS = 1;

/** One watch stream, as the fan-out sees it. */
export class Feed {
  /** every change up to this cursor has been sent or filtered out */
  cursor: number;
  /** when the socket last filled up (now() ms); undefined while it takes more */
  blockedSince: number | undefined;
  /** the last pump read the log to its end: nothing between `cursor` and the next flush concerns it */
  caughtUp = false;
  /**
   * The task was deleted: its last change is at or before this cursor. Once the feed has read that
   * far, the stream is told (`task_deleted`) and ends.
   */
  endsAfter: { readonly cursor: number; readonly frame: string } | undefined;

  constructor(
    readonly res: ServerResponse,
    readonly taskId: string,
    private readonly definition: PipelineDefinition,
    /** the watched subtree: the preorder range [first, end) */
    readonly first: number,
    readonly end: number,
    cursor: number,
    /** the log no longer holds `cursor`: the stream must start again from a full status */
    readonly lost: (feed: Feed) => void,
  ) {
    this.cursor = cursor;
  }

  /**
   * Blocked from `now` (a time of the watch clock) until its socket has room again or closes:
   * the heartbeat cuts a stream blocked for stallTimeoutMs, whatever it was writing.
   */
  blockedUntilRoom(now: number): Promise<void> {
    this.blockedSince = now;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done).off('close', done);
        this.blockedSince = undefined;
        resolve();
      };
      this.res.on('drain', done).on('close', done);
    });
  }

  /** Is this logged change inside the watched subtree? */
  wants(e: LogEntry): boolean {
    if (e.change.taskId !== this.taskId) return false;
    // Every feed of a task shares its definition (a task id is never reused), so the index is the task's.
    e.index ??= this.definition.indexOf(e.change.nodeId);
    const i = e.index;
    return i >= this.first && i < this.end;
  }
}

export class Fanout {
  private readonly byTask = new Map<string, Set<Feed>>();
  /** per watched task, the cursor of its first change since the last flush */
  private readonly firstSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** performance.now() before which no round starts (see FANOUT_SHARE) */
  private nextFlush = -Infinity;
  /** the round of deliveries in progress, fed in slices */
  private round: Round | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly log: ChangeLog,
    private readonly options: FanoutOptions = DEFAULT_FANOUT,
  ) {
    this.unsubscribe = log.subscribe((c) => this.heard(c));
  }

  /** Starts feeding a stream from its cursor. */
  add(feed: Feed): void {
    let feeds = this.byTask.get(feed.taskId);
    if (!feeds) {
      feeds = new Set();
      this.byTask.set(feed.taskId, feeds);
    }
    feeds.add(feed);
    feed.caughtUp = feed.cursor >= this.log.cursor;
    if (!feed.caughtUp) this.soon();
  }

  /**
   * A watched task was deleted (`frame` says so): each of its streams gets the changes it has yet
   * to read, then `frame`, then its end.
   */
  endTask(taskId: string, frame: string): void {
    const feeds = this.byTask.get(taskId);
    if (!feeds) return;
    for (const feed of feeds) feed.endsAfter = { cursor: this.log.cursor, frame };
    this.soon();
  }

  remove(feed: Feed): void {
    const feeds = this.byTask.get(feed.taskId);
    if (!feeds) return;
    feeds.delete(feed);
    if (feeds.size === 0) this.byTask.delete(feed.taskId);
  }

  close(): void {
    this.unsubscribe();
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.round = undefined;
    this.byTask.clear();
  }

  /** Inside the writing request: only note that a flush is due. */
  private heard(change: NodeChange): void {
    if (!this.byTask.has(change.taskId)) return;
    if (!this.firstSince.has(change.taskId)) this.firstSince.set(change.taskId, change.seq);
    // A round in progress schedules the next one when it ends.
    if (this.timer !== undefined || this.immediate !== undefined || this.round !== undefined) return;
    this.later();
  }

  /** A round when the share allows: at once if it does, else when it will. */
  private later(): void {
    const wait = this.nextFlush - performance.now();
    if (wait <= 0) this.soon();
    else {
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref();
    }
  }

  /** A round on the next turn, after the current request has been answered. */
  private soon(): void {
    if (this.immediate !== undefined || this.round !== undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(() => this.flush());
  }

  /** Starts a round: the feeds that have something to read, fed in slices. */
  private flush(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const feeds: Feed[] = [];
    for (const [taskId, set] of this.byTask) {
      const first = this.firstSince.get(taskId);
      for (const feed of set) {
        // A feed that had read the log to its end skips, without reading them, the changes since
        // that concern other tasks: a quiet watcher is never taken to be behind by a busy log.
        if (feed.caughtUp) {
          if (first === undefined) feed.cursor = this.log.cursor;
          else {
            feed.cursor = Math.max(feed.cursor, first - 1);
            feed.caughtUp = false;
          }
        }
        if (feed.blockedSince === undefined && (feed.cursor < this.log.cursor || feed.endsAfter !== undefined)) feeds.push(feed);
      }
    }
    this.firstSince.clear();
    this.round = { feeds, next: 0, cpuMs: 0, batches: new Map(), behind: false };
    this.continueRound();
  }

  /**
   * Feeds the round's watchers for up to ROUND_SLICE_MS, then lets the event loop run (a request
   * arriving meanwhile waits one slice, not the whole round). The share counts the round's own
   * time, not the time others took in between.
   */
  private continueRound(): void {
    this.immediate = undefined;
    const r = this.round!;
    const t0 = performance.now();
    while (r.next < r.feeds.length) {
      r.behind = this.pump(r.feeds[r.next++], r.batches) || r.behind;
      if ((r.next & 15) === 0 && performance.now() - t0 >= ROUND_SLICE_MS) break;
    }
    const t1 = performance.now();
    r.cpuMs += t1 - t0;
    if (r.next < r.feeds.length) {
      this.immediate = setImmediate(() => this.continueRound());
      return;
    }
    this.round = undefined;
    const { flushIntervalMs } = this.options;
    // The round's time is wall time: on a crowded machine it includes waiting for a core, so the
    // pause is capped, and every watcher still hears of a change within ten intervals.
    this.nextFlush = t1 + Math.min(10 * flushIntervalMs, Math.max(flushIntervalMs, r.cpuMs * (1 / FANOUT_SHARE - 1)));
    // Some read their batch and have more, or changes came meanwhile: the next round, when the share allows.
    if (r.behind || this.firstSince.size > 0) this.later();
  }

  /**
   * Sends a feed the next changes it wants, up to highWaterBytes; true when it has more to read.
   * Feeds at the same cursor watching the same subtree (the usual case: every live watcher of a
   * task) read the log once per round and get the same bytes.
   */
  private pump(feed: Feed, batches: Map<string, Batch>): boolean {
    if (feed.res.destroyed) return false;
    if (!this.log.retains(feed.cursor)) {
      this.remove(feed);
      feed.lost(feed);
      return false;
    }
    const key = `${feed.cursor} ${feed.taskId} ${feed.first} ${feed.end}`;
    let batch = batches.get(key);
    if (batch === undefined) {
      batch = this.read(feed);
      batches.set(key, batch);
    }
    feed.cursor = batch.cursor;
    feed.caughtUp = batch.cursor === this.log.cursor;
    if (feed.endsAfter !== undefined && feed.cursor >= feed.endsAfter.cursor) {
      this.remove(feed);
      if (batch.bytes !== undefined) feed.res.write(batch.bytes);
      feed.res.end(feed.endsAfter.frame);
      return false;
    }
    if (batch.bytes === undefined) return false;
    const room = feed.res.write(batch.bytes);
    // node flushes a response's writes on the next tick; flush now, so that the system call is
    // part of this slice and of the share it is measured against.
    feed.res.socket?.uncork();
    if (!room) {
      this.block(feed);
      return false;
    }
    return !feed.caughtUp;
  }

  /** The frames after a feed's cursor that it wants, up to highWaterBytes, as one buffer. */
  private read(feed: Feed): Batch {
    const frames: Buffer[] = [];
    let bytes = 0;
    let cursor = feed.cursor;
    this.log.forEachAfter(cursor, (e) => {
      if (bytes >= this.options.highWaterBytes) return false;
      cursor = e.change.seq;
      if (feed.wants(e)) {
        e.frame ??= changeFrame(e.change);
        const frame = e.frame;
        frames.push(frame);
        bytes += frame.length;
      }
      return true;
    });
    return { cursor, bytes: frames.length === 0 ? undefined : frames.length === 1 ? frames[0] : Buffer.concat(frames, bytes) };
  }

  private block(feed: Feed): void {
    void feed.blockedUntilRoom(this.options.now()).then(() => {
      if (!feed.res.destroyed && this.timer === undefined && this.immediate === undefined && this.round === undefined) this.later();
    });
  }
}

/** What one read of the log gives every feed at the same cursor on the same subtree. */
interface Batch {
  /** the cursor after it */
  readonly cursor: number;
  /** the frames, one buffer; undefined when there are none */
  readonly bytes: Buffer | undefined;
}

interface Round {
  readonly feeds: Feed[];
  next: number;
  cpuMs: number;
  readonly batches: Map<string, Batch>;
  behind: boolean;
}
