/**
 * GET /watch_task_status/{task_id}/{bk_biz_id}/?subprocess_id=… as Server-Sent Events.
 *
 * A fresh watch starts with one `status` event (the get_task_status answer), then one `change`
 * event per node change inside the watched subtree. Every event's `id` is a cursor; a client that
 * reconnects with `Last-Event-ID` gets exactly the changes it missed, as long as the change log
 * still holds them. When it does not, the stream says so with a `reset` event and starts again
 * with a full `status`: the client never silently misses a change.
 *
 * The status is a large answer like any other: admitted through the queue, built in slices and
 * written as the socket takes it. Changes are then fed from the change log (fanout.ts), paced by
 * the socket. So a reconnecting client far behind, or a fresh one on a 30,000-node task that keeps
 * changing, catches up at its own speed. The one limit on a slow client is time: a client that
 * has not taken a byte for `stallTimeoutMs` while the server has something for it (it is not
 * reading at all) is disconnected; it can resume from its cursor.
 */
import type { ServerResponse } from 'node:http';
import type { Slices } from '../../model/index.js';
import type { Envelope } from '../types.js';
import { drained, writePieces, type RoomWait } from './answer-writer.js';
import type { ChangeLog } from './change-log.js';
import { DEFAULT_FANOUT, Fanout, Feed } from './fanout.js';
import type { EnginePort } from './port.js';
import { peekPieces } from './sliced-json.js';
import { HEAVY, type Job } from './slicer.js';
import { KEEP_ALIVE_FRAME, RETRY_FRAME, STATUS_FRAME_TAIL, resetFrame, statusFrameHead, taskDeletedFrame } from './sse-events.js';
import type { TaskDeleted } from '../../store/index.js';

export interface WatchOptions {
  /** ms between keep-alive comments, so proxies do not close an idle stream; default 15 s */
  readonly heartbeatMs: number;
  /** a client that takes nothing for this long while data waits for it is disconnected; default 30 s */
  readonly stallTimeoutMs: number;
  /** bytes of changes written to one client before waiting for its socket to drain; default 64 KiB */
  readonly highWaterBytes: number;
  /** ms between two deliveries of changes at most (they go out together); default 10 */
  readonly flushIntervalMs: number;
  /** ms, the clock stalls are measured with; default Date.now */
  readonly now: () => number;
}

export const DEFAULT_WATCH: WatchOptions = {
  heartbeatMs: 15_000,
  stallTimeoutMs: 30_000,
  highWaterBytes: DEFAULT_FANOUT.highWaterBytes,
  flushIntervalMs: DEFAULT_FANOUT.flushIntervalMs,
  now: Date.now,
};

export interface WatchRequest {
  readonly taskId: string;
  readonly subprocessId: string | undefined;
  /** the Last-Event-ID header (or last_event_id parameter) of a reconnecting client */
  readonly lastEventId: string | undefined;
  /** the get_task_status answer, in slices; it also decides whether the caller may watch at all */
  readonly status: () => Slices<Envelope<unknown>>;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * Runs a job that may be heavy, admitted through the handler's queue when it is; undefined when
 * the client left first. `streaming`: the job runs inside a stream already open.
 */
export type Admitted = <T>(res: ServerResponse, job: () => Job<T>, streaming?: boolean) => Promise<T | undefined>;

const CURSOR = /^[0-9]{1,15}$/;

type Opened = { readonly refused: Envelope<unknown> } | { readonly feed: Feed } | { readonly head: true };

export class Watches {
  private readonly streams = new Map<ServerResponse, Feed>();
  private readonly fanout: Fanout;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly engine: EnginePort,
    private readonly log: ChangeLog,
    private readonly options: WatchOptions,
    private readonly admitted: Admitted,
  ) {
    this.fanout = new Fanout(log, options);
    engine.on('task_deleted', this.onDeleted);
  }

  /** The streams of a deleted task get their last changes, a `task_deleted` event, and their end. */
  private readonly onDeleted = (d: TaskDeleted): void => this.fanout.endTask(d.taskId, taskDeletedFrame(d));

  get open(): number {
    return this.streams.size;
  }

  /**
   * Opens the stream. When the status answer refuses (unknown task, not allowed…), nothing is
   * written and the refusal is returned for the caller to answer as JSON.
   */
  async start(res: ServerResponse, req: WatchRequest): Promise<Envelope<unknown> | undefined> {
    const id = req.lastEventId?.trim();
    const resumeFrom = id !== undefined && CURSOR.test(id) && this.log.retains(Number(id)) ? Number(id) : undefined;
    const opened = await this.admitted(res, () => this.opening(res, req, resumeFrom));
    if (opened === undefined || 'head' in opened) return undefined;
    if ('refused' in opened) return opened.refused;
    if (res.destroyed) return undefined;
    this.streams.set(res, opened.feed);
    this.fanout.add(opened.feed);
    res.on('close', () => {
      this.fanout.remove(opened.feed);
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopHeartbeat();
    });
    this.startHeartbeat();
    return undefined;
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const res of this.streams.keys()) res.end();
    this.streams.clear();
    this.stopHeartbeat();
    this.engine.off('task_deleted', this.onDeleted);
    this.fanout.close();
  }

  /**
   * The opening, as one admitted job: the status (which also checks the caller may watch), from
   * one snapshot whose cursor the feed then starts from; then the stream's head and, unless the
   * client resumes, the `status` event (after a `reset` when its cursor could not be resumed).
   */
  private *opening(res: ServerResponse, req: WatchRequest, resumeFrom: number | undefined): Job<Opened> {
    // The cursor, the snapshot and the definition are read in the job's first step, before any
    // change can come in between (the status generator takes its snapshot on that step too).
    const cursor = this.log.cursor;
    const task = this.engine.snapshot().getTask(req.taskId);
    const answer = yield* req.status();
    if (!answer.result) return { refused: answer };
    // Answered, but not in memory: archived (answered from storage), so it never changes again:
    // the stream carries its status and ends.
    if (task === undefined) return yield* this.archived(res, req, answer.data, cursor);
    const first = req.subprocessId === undefined ? 0 : task.definition.indexOf(req.subprocessId);
    if (first < 0) {
      throw new Error(`watch: the status of task ${req.taskId} was answered, but the task or node is not in the snapshot`);
    }
    const status = resumeFrom === undefined ? peekPieces(answer.data) : undefined;
    // A large status: admitted before the stream opens (the admission queue may still refuse it).
    if (status !== undefined && status.whole === undefined) yield HEAVY;
    res.writeHead(200, {
      ...Object.fromEntries(req.headers),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told not to
      'X-Accel-Buffering': 'no',
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return { head: true };
    }
    res.write(RETRY_FRAME);
    const feed = new Feed(res, req.taskId, task.definition, first, task.definition.end[first], resumeFrom ?? cursor, (f) =>
      this.lost(f, req),
    );
    if (status !== undefined) yield* this.sendStatus(res, status.pieces, cursor, req.lastEventId, this.stallTimer);
    return { feed };
  }

  /** An archived task's stream: its head, its status, and the end (nothing follows). */
  private *archived(res: ServerResponse, req: WatchRequest, data: unknown, cursor: number): Job<Opened> {
    const status = peekPieces(data);
    if (status.whole === undefined) yield HEAVY;
    res.writeHead(200, {
      ...Object.fromEntries(req.headers),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
    });
    if (res.req.method !== 'HEAD') {
      res.write(RETRY_FRAME);
      yield* this.sendStatus(res, status.pieces, cursor, req.lastEventId, this.stallTimer);
    }
    res.end();
    return { head: true };
  }

  /**
   * Room for a stream not yet in `streams` (its opening): a timer of its own cuts it after
   * stallTimeoutMs, since the heartbeat does not see it yet.
   */
  private readonly stallTimer: RoomWait = (res) => drained(res, this.options.stallTimeoutMs);

  /**
   * Room for an open stream: it is blocked as the fan-out blocks it, so the heartbeat cuts it by
   * the same rule and the same clock (`now`) as a stream stalled on changes.
   */
  private blockedUntilRoom(feed: Feed): RoomWait {
    return () => feed.blockedUntilRoom(this.options.now());
  }

  /** The `status` event (after a `reset` when a cursor could not be resumed), paced. */
  private *sendStatus(
    res: ServerResponse,
    pieces: Iterator<string, void, undefined>,
    cursor: number,
    unresumed: string | undefined,
    room: RoomWait,
  ): Job<void> {
    if (unresumed !== undefined && !res.write(resetFrame(unresumed, this.log.retention))) yield room(res);
    if (!res.write(statusFrameHead(cursor))) yield room(res);
    if (yield* writePieces(res, pieces, room)) res.write(STATUS_FRAME_TAIL);
  }

  /**
   * The log dropped the changes this stream had yet to read (it was too slow for the retention):
   * it says so, and starts again from a fresh status. When the service is too busy to build one,
   * the stream ends and the client reconnects, to the same effect.
   */
  private lost(feed: Feed, req: WatchRequest): void {
    const res = feed.res;
    const unresumed = String(feed.cursor);
    const again = function* (this: Watches): Job<number | undefined> {
      const cursor = this.log.cursor;
      const answer = yield* req.status();
      if (!answer.result) return undefined;
      const status = peekPieces(answer.data);
      if (status.whole === undefined) yield HEAVY;
      yield* this.sendStatus(res, status.pieces, cursor, unresumed, this.blockedUntilRoom(feed));
      return cursor;
    }.bind(this);
    this.admitted(res, again, true).then(
      (cursor) => {
        if (cursor === undefined || res.destroyed) return void res.end();
        feed.cursor = cursor;
        feed.caughtUp = false;
        this.fanout.add(feed);
      },
      () => res.destroy(),
    );
  }

  /** One timer for every stream: keep-alive comments, and the end of clients that stopped reading. */
  private startHeartbeat(): void {
    if (this.heartbeat !== undefined) return;
    this.heartbeat = setInterval(() => {
      const now = this.options.now();
      for (const [res, feed] of this.streams) {
        if (feed.blockedSince !== undefined) {
          if (now - feed.blockedSince >= this.options.stallTimeoutMs) res.destroy();
        } else if (!res.writableEnded) res.write(KEEP_ALIVE_FRAME);
      }
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
