/** The answers of SPEC §4 built on the status tree: a task's summary and a node's detail. */
import type { NodeRecord } from '../lifecycle/index.js';
import { complete, type Slices } from '../model/index.js';
import { historyAt, type TaskView } from '../store/index.js';
import { elapsedAt, timesOf, type TaskTimes } from './record-times.js';
import { statusTreeSlices } from './status-tree.js';
import type { HistoryEntry, NodeDetail, NodeStatus, NodeStatusSummary, TaskStatusEntry } from './types.js';

/** get_tasks_status: one task's entry; its root's answer, with children only when asked. */
export function taskStatusEntry(task: TaskView, now: number, withChildren: boolean): TaskStatusEntry {
  return complete(taskStatusEntrySlices(task, now, withChildren));
}

/** The same entry, built in slices. */
export function* taskStatusEntrySlices(task: TaskView, now: number, withChildren: boolean): Slices<TaskStatusEntry> {
  const root = yield* statusTreeSlices(task, 0, now, { withChildren, withExData: false });
  return { id: task.task.id, name: task.task.name, status: withChildren ? root : withoutChildren(root) };
}

/** The same answer minus `children`, keys still in §3.2 order. */
function withoutChildren(s: NodeStatus): NodeStatusSummary {
  return {
    id: s.id, state: s.state, name: s.name, retry: s.retry, loop: s.loop, skip: s.skip,
    error_ignorable: s.error_ignorable, version: s.version, state_refresh_at: s.state_refresh_at,
    elapsed_time: s.elapsed_time, start_time: s.start_time, finish_time: s.finish_time,
  };
}

/** get_task_node_detail: node `i`'s answer plus its ended attempts, oldest first. */
export function nodeDetail(task: TaskView, i: number, now: number, withExData: boolean): NodeDetail {
  return complete(nodeDetailSlices(task, i, now, withExData));
}

/** The same answer, built in slices (the node's subtree can be most of a large task). */
export function* nodeDetailSlices(task: TaskView, i: number, now: number, withExData: boolean): Slices<NodeDetail> {
  const detail = (yield* statusTreeSlices(task, i, now, { withChildren: true, withExData })) as NodeDetail;
  const times = timesOf(task);
  detail.histories = historyAt(task, i).map((attempt) => historyEntry(attempt, times, now));
  return detail;
}

function historyEntry(r: NodeRecord, times: TaskTimes, now: number): HistoryEntry {
  const t = times.ofAttempt(r);
  return {
    state: r.state, version: r.version, loop: r.loop, retry: r.retry, skip: r.skip,
    error_ignorable: r.error_ignored, start_time: t.start_time, finish_time: t.finish_time,
    elapsed_time: elapsedAt(t, now), ex_data: r.ex_data ?? null,
  };
}
