/**
 * GET /watch_task_status/{task_id}/{bk_biz_id}/?subprocess_id=… as Server-Sent Events.
 *
 * A fresh watch starts with one `status` event (the get_task_status answer), then one `change`
 * event per node change inside the watched subtree. Every event's `id` is a cursor; a client that
 * reconnects with `Last-Event-ID` gets exactly the changes it missed, as long as the change log
 * still holds them. When it does not, the stream says so with a `reset` event and starts again
 * with a full `status`: the client never silently misses a change.
 */
import type { ServerResponse } from 'node:http';
import type { NodeChange } from '../../store/index.js';
import type { Envelope } from '../types.js';
import type { ChangeLog } from './change-log.js';
import type { EnginePort } from './port.js';

export interface WatchOptions {
  /** ms between keep-alive comments, so proxies do not close an idle stream; default 15 s */
  readonly heartbeatMs: number;
  /** a client this far behind (bytes not yet sent) is disconnected; it can resume. Default 1 MiB */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_WATCH: WatchOptions = { heartbeatMs: 15_000, maxBufferedBytes: 1 << 20 };

export interface WatchRequest {
  readonly taskId: string;
  readonly subprocessId: string | undefined;
  /** the Last-Event-ID header (or last_event_id parameter) of a reconnecting client */
  readonly lastEventId: string | undefined;
  /** the get_task_status answer; it also decides whether the caller may watch at all */
  readonly status: () => Envelope<unknown> | Promise<Envelope<unknown>>;
  readonly headers: ReadonlyMap<string, string>;
}

const CURSOR = /^[0-9]{1,15}$/;

const isoOrNull = (ms: number | null): string | null => (ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** What a `change` event carries: the change and the node's new runtime record. */
function changeEvent(c: NodeChange): string {
  const at = isoOrNull(c.at);
  const { state, version, loop, retry, skip, error_ignored, ex_data } = c.record;
  // The attempt's times too, so a client can draw durations and timelines from the stream alone.
  const started_at = isoOrNull(c.record.started_at);
  const finished_at = isoOrNull(c.record.finished_at);
  const data = {
    cursor: c.seq, task_id: c.taskId, node_id: c.nodeId, operation: c.operation, from: c.from, to: c.to, at,
    state, version, loop, retry, skip, error_ignored, started_at, finished_at, ...(ex_data !== undefined ? { ex_data } : {}),
  };
  return `id: ${c.seq}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Changes heard while the stream is being set up, held until it can deliver them. */
class Pending {
  private readonly queued: NodeChange[] = [];
  private deliver: ((c: NodeChange) => void) | undefined;
  readonly stop: () => void;

  constructor(log: ChangeLog) {
    this.stop = log.subscribe((c) => (this.deliver ? this.deliver(c) : this.queued.push(c)));
  }

  /** Delivers what was queued, then everything that follows. */
  flush(deliver: (c: NodeChange) => void): void {
    for (const c of this.queued) deliver(c);
    this.queued.length = 0;
    this.deliver = deliver;
  }
}

export class Watches {
  private readonly streams = new Set<ServerResponse>();

  constructor(
    private readonly engine: EnginePort,
    private readonly log: ChangeLog,
    private readonly options: WatchOptions = DEFAULT_WATCH,
  ) {}

  get open(): number {
    return this.streams.size;
  }

  /**
   * Opens the stream. When the status answer refuses (unknown task, not allowed…), nothing is
   * written and the refusal is returned for the caller to answer as JSON.
   */
  async start(res: ServerResponse, req: WatchRequest): Promise<Envelope<unknown> | undefined> {
    // Listen before asking for the status, so no change can fall between the two.
    const pending = new Pending(this.log);
    const cursor = this.log.cursor;
    const resumeFrom = req.lastEventId !== undefined && CURSOR.test(req.lastEventId.trim()) ? Number(req.lastEventId.trim()) : undefined;
    const replay = resumeFrom === undefined ? undefined : this.log.since(resumeFrom);
    let answer: Envelope<unknown>;
    let inside: (c: NodeChange) => boolean;
    try {
      answer = await req.status();
      if (!answer.result) {
        pending.stop();
        return answer;
      }
      inside = this.subtree(req);
    } catch (error) {
      pending.stop();
      throw error;
    }

    this.writeHead(res, req.headers);
    const send = (c: NodeChange): void => {
      if (!inside(c) || res.writableEnded) return;
      res.write(changeEvent(c));
      // A client that cannot keep up is cut off rather than buffered without bound: it reconnects
      // with its Last-Event-ID and resumes from the log.
      if (res.writableLength > this.options.maxBufferedBytes) res.destroy();
    };
    if (replay !== undefined) {
      for (const c of replay) send(c);
    } else {
      if (req.lastEventId !== undefined) res.write(this.resetEvent(req.lastEventId));
      res.write(`id: ${cursor}\nevent: status\ndata: ${JSON.stringify(answer.data)}\n\n`);
    }
    pending.flush(send);
    this.keepAlive(res, pending.stop);
    return undefined;
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  /** Is a change inside the watched subtree? A subtree is a preorder range of the definition. */
  private subtree(req: WatchRequest): (c: NodeChange) => boolean {
    const task = this.engine.snapshot().getTask(req.taskId);
    // Answered, but not in memory: archived (answered from storage), so it never changes again.
    if (task === undefined) return () => false;
    const root = req.subprocessId === undefined ? 0 : task.definition.indexOf(req.subprocessId);
    if (root < 0) {
      throw new Error(`watch: the status of task ${req.taskId} was answered, but the task or node is not in the snapshot`);
    }
    const def = task.definition;
    const end = def.end[root];
    return (c) => {
      if (c.taskId !== req.taskId) return false;
      const i = def.indexOf(c.nodeId);
      return i >= root && i < end;
    };
  }

  private writeHead(res: ServerResponse, headers: ReadonlyMap<string, string>): void {
    res.writeHead(200, {
      ...Object.fromEntries(headers),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told not to
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
  }

  private keepAlive(res: ServerResponse, unsubscribe: () => void): void {
    this.streams.add(res);
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, this.options.heartbeatMs);
    heartbeat.unref();
    const cleanup = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
    };
    // The client may have gone while the status was being answered: then 'close' is past.
    if (res.destroyed) cleanup();
    else res.on('close', cleanup);
  }

  private resetEvent(lastEventId: string): string {
    const { maxEvents, maxAgeMs } = this.log.retention;
    const message = `cursor ${JSON.stringify(lastEventId)} is no longer retained (this server keeps the last ${maxEvents} changes `
      + `for at most ${Math.round(maxAgeMs / 1000)} s), or was not issued by it; changes may have been missed, so the full status follows`;
    return `event: reset\ndata: ${JSON.stringify({ last_event_id: lastEventId, message })}\n\n`;
  }
}
