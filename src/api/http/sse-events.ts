/**
 * The events of a watch stream (Server-Sent Events, WHATWG "event stream" format), as the text
 * that goes on the wire. A `change` event is encoded once per change, whatever the number of
 * watchers (the change log keeps it); a `status` event is the get_task_status answer, written in
 * pieces like any large answer.
 */
import type { NodeChange } from '../../store/index.js';
import type { RetentionOptions } from './change-log.js';

/** Asks EventSource clients to reconnect after 2 s; the stream's first bytes. */
export const RETRY_FRAME = 'retry: 2000\n\n';

export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';

const isoOrNull = (ms: number | null): string | null => (ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** What a `change` event carries: the change and the node's new runtime record. */
export function changeFrame(c: NodeChange): Buffer {
  const at = isoOrNull(c.at);
  const { state, version, loop, retry, skip, error_ignored, ex_data } = c.record;
  // The attempt's times too, so a client can draw durations and timelines from the stream alone.
  const started_at = isoOrNull(c.record.started_at);
  const finished_at = isoOrNull(c.record.finished_at);
  const data = {
    cursor: c.seq,
    task_id: c.taskId,
    node_id: c.nodeId,
    operation: c.operation,
    from: c.from,
    to: c.to,
    at,
    state,
    version,
    loop,
    retry,
    skip,
    error_ignored,
    started_at,
    finished_at,
    ...(ex_data !== undefined ? { ex_data } : {}),
  };
  return Buffer.from(`id: ${c.seq}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The text before and after the status answer's JSON (which is written in pieces between them). */
export const statusFrameHead = (cursor: number): string => `id: ${cursor}\nevent: status\ndata: `;
export const STATUS_FRAME_TAIL = '\n\n';

/** Says the watched task was deleted (DECISIONS 1); the stream ends after it. */
export const taskDeletedFrame = (d: { readonly seq: number; readonly taskId: string; readonly at: number }): string =>
  `event: task_deleted\ndata: ${JSON.stringify({ cursor: d.seq, task_id: d.taskId, at: isoOrNull(d.at) })}\n\n`;

/** Says the cursor cannot be resumed from; the full status follows. */
export function resetFrame(lastEventId: string, retention: Pick<RetentionOptions, 'maxEvents' | 'maxAgeMs'>): string {
  const { maxEvents, maxAgeMs } = retention;
  const message =
    `cursor ${JSON.stringify(lastEventId)} is no longer retained (this server keeps the last ${maxEvents} changes ` +
    `for at most ${Math.round(maxAgeMs / 1000)} s), or was not issued by it; changes may have been missed, so the full status follows`;
  return `event: reset\ndata: ${JSON.stringify({ last_event_id: lastEventId, message })}\n\n`;
}
