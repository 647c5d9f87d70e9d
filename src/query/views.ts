/** The answers of SPEC §4 built on the status tree: a task's summary and a node's detail. */
import type { NodeRecord } from '../lifecycle/index.js';
import type { Slices } from '../model/index.js';
import { historyPageAt, recordAt, type TaskView } from '../store/index.js';
import { elapsedAt, timesOf, type TaskTimes } from './record-times.js';
import { statusTreeSlices } from './status-tree.js';
import type { HistoryEntry, NodeDetail, NodeStatus, NodeStatusSummary, TaskStatusEntry } from './types.js';

/** States after which bk-sops calls a task's flow "finished" (its archive and revoke handlers). */
const FLOW_FINISHED: ReadonlySet<string> = new Set(['FINISHED', 'REVOKED']);

/**
 * get_tasks_status: one task's entry, built in slices; its root's answer, with children only when
 * asked, and the task's own fields in bk-sops' order. `url` is the task's web address, made by
 * the caller.
 */
export function* taskStatusEntrySlices(task: TaskView, now: number, withChildren: boolean, url: string): Slices<TaskStatusEntry> {
  const root = yield* statusTreeSlices(task, 0, now, { withChildren, withExData: false });
  return {
    id: Number(task.task.id),
    name: task.task.name,
    status: withChildren ? root : withoutChildren(root),
    flow_type: 'common',
    current_flow: FLOW_FINISHED.has(recordAt(task, 0).state) ? 'finished' : 'execute_task',
    is_deleted: false,
    create_time: timesOf(task).text(task.task.created_at),
    start_time: root.start_time,
    finish_time: root.finish_time,
    url,
  };
}

/** The same answer minus `children`, keys still in §3.2 order. */
function withoutChildren(s: NodeStatus): NodeStatusSummary {
  return {
    id: s.id,
    state: s.state,
    name: s.name,
    retry: s.retry,
    loop: s.loop,
    skip: s.skip,
    error_ignorable: s.error_ignorable,
    version: s.version,
    state_refresh_at: s.state_refresh_at,
    elapsed_time: s.elapsed_time,
    start_time: s.start_time,
    finish_time: s.finish_time,
  };
}

/** Which ended attempts a node detail answers: `limit` of them, skipping the `offset` newest. */
export interface HistoriesPage {
  readonly offset: number;
  readonly limit: number;
}

/**
 * get_task_node_detail: node `i`'s answer plus one page of its ended attempts, oldest first, the
 * number it keeps (`histories_total`) and the number dropped past the cap (`histories_dropped`),
 * built in slices (the node's subtree can be most of a large task); the page of histories is
 * bounded by the store's histories limit, so it is built in one go.
 */
export function* nodeDetailSlices(task: TaskView, i: number, now: number, withExData: boolean, page: HistoriesPage): Slices<NodeDetail> {
  const detail = (yield* statusTreeSlices(task, i, now, { withChildren: true, withExData })) as NodeDetail;
  const times = timesOf(task);
  const { attempts, total, dropped } = historyPageAt(task, i, page.offset, page.limit);
  detail.histories = attempts.map((attempt) => historyEntry(attempt, times, now));
  detail.histories_total = total;
  detail.histories_dropped = dropped;
  return detail;
}

function historyEntry(r: NodeRecord, times: TaskTimes, now: number): HistoryEntry {
  const t = times.ofAttempt(r);
  return {
    state: r.state,
    version: r.version,
    loop: r.loop,
    retry: r.retry,
    skip: r.skip,
    error_ignorable: r.error_ignored,
    start_time: t.start_time,
    finish_time: t.finish_time,
    elapsed_time: elapsedAt(t, now),
    ex_data: r.ex_data ?? null,
  };
}
