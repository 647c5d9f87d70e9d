/**
 * Delivering logged changes to watch streams.
 *
 * - **Once per change.** A change's `change` event is encoded once, into the change log, and the
 *   same bytes go to every watcher; the node's place in its task (for subtree filters) is found
 *   once too. Watchers are grouped by task, so a change costs nothing for the others.
 * - **After the request.** The engine calls the log, and the log calls this, inside the request
 *   that made the change; all that happens there is scheduling a flush. Delivery runs later, at
 *   most once per `flushIntervalMs` (all the changes since the last flush go out together, one
 *   write per watcher), so 500 watchers cost a node_event a few microseconds, not 500 writes.
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

/** One watch stream, as the fan-out sees it. */
export class Feed {
  /** every change up to this cursor has been sent or filtered out */
  cursor: number;
  /** when the socket last filled up (now() ms); undefined while it takes more */
  blockedSince: number | undefined;
  /** the last pump read the log to its end: nothing between `cursor` and the next flush concerns it */
  caughtUp = false;

  constructor(
    readonly res: ServerResponse,
    readonly taskId: string,
    private readonly definition: PipelineDefinition,
    /** the watched subtree: the preorder range [first, end) */
    private readonly first: number,
    private readonly end: number,
    cursor: number,
    /** the log no longer holds `cursor`: the stream must start again from a full status */
    readonly lost: (feed: Feed) => void,
  ) {
    this.cursor = cursor;
  }

  /** Is this logged change inside the watched subtree? */
  wants(e: LogEntry): boolean {
    if (e.change.taskId !== this.taskId) return false;
    // Every feed of a task shares its definition (a task id is never reused), so the index is the task's.
    const i = (e.index ??= this.definition.indexOf(e.change.nodeId));
    return i >= this.first && i < this.end;
  }
}

export class Fanout {
  private readonly byTask = new Map<string, Set<Feed>>();
  /** per watched task, the cursor of its first change since the last flush */
  private readonly firstSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastFlush = -Infinity;
  private readonly unsubscribe: () => void;

  constructor(private readonly log: ChangeLog, private readonly options: FanoutOptions = DEFAULT_FANOUT) {
    this.unsubscribe = log.subscribe((c) => this.heard(c));
  }

  /** Starts feeding a stream from its cursor. */
  add(feed: Feed): void {
    let feeds = this.byTask.get(feed.taskId);
    if (!feeds) this.byTask.set(feed.taskId, (feeds = new Set()));
    feeds.add(feed);
    feed.caughtUp = feed.cursor >= this.log.cursor;
    if (!feed.caughtUp) this.soon();
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
    this.byTask.clear();
  }

  /** Inside the writing request: only note that a flush is due. */
  private heard(change: NodeChange): void {
    if (!this.byTask.has(change.taskId)) return;
    if (!this.firstSince.has(change.taskId)) this.firstSince.set(change.taskId, change.seq);
    if (this.timer !== undefined || this.immediate !== undefined) return;
    const wait = this.lastFlush + this.options.flushIntervalMs - performance.now();
    if (wait <= 0) this.soon();
    else {
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref();
    }
  }

  /** A flush on the next turn, after the current request has been answered. */
  private soon(): void {
    if (this.immediate !== undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(() => this.flush());
  }

  private flush(): void {
    this.timer = undefined;
    this.immediate = undefined;
    this.lastFlush = performance.now();
    let behind = false;
    for (const [taskId, feeds] of this.byTask) {
      const first = this.firstSince.get(taskId);
      for (const feed of feeds) {
        // A feed that had read the log to its end skips, without reading them, the changes since
        // that concern other tasks: a quiet watcher is never taken to be behind by a busy log.
        if (feed.caughtUp) {
          if (first === undefined) feed.cursor = this.log.cursor;
          else {
            feed.cursor = Math.max(feed.cursor, first - 1);
            feed.caughtUp = false;
          }
        }
        if (feed.blockedSince === undefined && feed.cursor < this.log.cursor) behind = this.pump(feed) || behind;
      }
    }
    this.firstSince.clear();
    // Some read their share and still have more: go on next turn, after other I/O.
    if (behind) this.soon();
  }

  /** Sends a feed the next changes it wants, up to highWaterBytes; true when it has more to read. */
  private pump(feed: Feed): boolean {
    if (feed.res.destroyed) return false;
    if (!this.log.retains(feed.cursor)) {
      this.remove(feed);
      feed.lost(feed);
      return false;
    }
    const frames: Buffer[] = [];
    let bytes = 0;
    this.log.forEachAfter(feed.cursor, (e) => {
      if (bytes >= this.options.highWaterBytes) return false;
      feed.cursor = e.change.seq;
      if (feed.wants(e)) {
        const frame = (e.frame ??= changeFrame(e.change));
        frames.push(frame);
        bytes += frame.length;
      }
      return true;
    });
    feed.caughtUp = feed.cursor === this.log.cursor;
    if (frames.length === 0) return false;
    const res = feed.res;
    let room = true;
    res.cork();
    for (const frame of frames) room = res.write(frame);
    res.uncork();
    if (!room) this.block(feed);
    return room && !feed.caughtUp;
  }

  private block(feed: Feed): void {
    feed.blockedSince = this.options.now();
    feed.res.once('drain', () => {
      feed.blockedSince = undefined;
      this.soon();
    });
  }
}
