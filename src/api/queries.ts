/**
 * The three queries of SPEC §3–4 as pure functions of (snapshot, request, clock time, context):
 * the same arguments give the same answer, and a snapshot taken earlier answers as it did then.
 * They throw PipestateErrors; the engine turns them into envelopes.
 */
import {
  autoRetryStatus,
  failedNodeIds,
  failedNodeInfo,
  nodeDetailSlices,
  statusTreeSlices,
  taskStatusEntrySlices,
  type NodeDetail,
  type NodeStatus,
  type TaskStatusEntry,
} from '../query/index.js';
import { complete, invalid, type Slices } from '../model/index.js';
import type { Snapshot, StoreLimits } from '../store/index.js';
import { NODE_DETAIL, TASKS_STATUS, TASK_STATUS, parseRequest } from './requests.js';
import { findTask, resolveNode, resolveProject, resolveTask } from './resolve.js';
import { NO_URL, type TaskUrl } from './task-url.js';
import type { RequestContext } from './types.js';

/**
 * get_task_status: the task's answer, or the subtree of `subprocess_id`; with `ex_data`,
 * `failed_node_info` and `auto_retry_status` when asked (in that order, as bk-sops adds them).
 */
export function taskStatusAt(snap: Snapshot, request: unknown, now: number, ctx: RequestContext): NodeStatus {
  return complete(taskStatusSlices(snap, request, now, ctx));
}

/** The same answer in slices: the request is checked before the first checkpoint. */
export function* taskStatusSlices(snap: Snapshot, request: unknown, now: number, ctx: RequestContext): Slices<NodeStatus> {
  const r = parseRequest(TASK_STATUS, request);
  const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
  const root = r.subprocess_id === undefined ? 0 : resolveNode(task, r.subprocess_id);
  const answer = yield* statusTreeSlices(task, root, now, { withChildren: true, withExData: r.with_ex_data });
  if (r.with_failed_node_info || r.with_auto_retry_status) {
    yield;
    const info = failedNodeInfo(task, failedNodeIds(answer));
    if (r.with_failed_node_info) answer.failed_node_info = info;
    if (r.with_auto_retry_status) answer.auto_retry_status = autoRetryStatus(info);
  }
  return answer;
}

export interface TasksStatus {
  /** in request order, each id once (the first time it is named) */
  readonly data: TaskStatusEntry[];
  /** ids not found in the project, in request order */
  readonly missing: string[];
}

/** get_tasks_status: the tasks found in the project; the others are named in `missing`. */
export function tasksStatusAt(snap: Snapshot, request: unknown, now: number, ctx: RequestContext, url: TaskUrl = NO_URL): TasksStatus {
  return complete(tasksStatusSlices(snap, request, now, ctx, url));
}

/** Tasks between two checkpoints when each costs little (a root without children). */
const TASKS_PER_SLICE = 32;

/** The same answer in slices. */
export function* tasksStatusSlices(
  snap: Snapshot,
  request: unknown,
  now: number,
  ctx: RequestContext,
  url: TaskUrl = NO_URL,
): Slices<TasksStatus> {
  const r = parseRequest(TASKS_STATUS, request);
  const project = resolveProject(snap, r, ctx);
  const data: TaskStatusEntry[] = [];
  const missing: string[] = [];
  let count = 0;
  for (const taskId of new Set(r.task_id_list)) {
    if (++count % TASKS_PER_SLICE === 0) yield;
    const task = findTask(snap, project, taskId);
    if (task === undefined) missing.push(taskId);
    else data.push(yield* taskStatusEntrySlices(task, now, r.include_children_status, url(task.task, task.project)));
  }
  return { data, missing };
}

/** The envelope message of a get_tasks_status answer: "" when every task was found. */
export function missingMessage(missing: readonly string[]): string {
  if (missing.length === 0) return '';
  return missing.length === 1 ? `task ${missing[0]} does not exist` : `tasks ${missing.join(', ')} do not exist`;
}

/** The histories limits a node detail reads: the store's limits. */
export type HistoriesLimits = Pick<StoreLimits, 'historiesDefaultLimit' | 'historiesMaxLimit'>;

/**
 * get_task_node_detail: the node's answer plus one page of its ended attempts: `histories_limit`
 * (default and maximum from `limits`) after skipping the `histories_offset` newest.
 */
export function nodeDetailAt(snap: Snapshot, request: unknown, now: number, ctx: RequestContext, limits: HistoriesLimits): NodeDetail {
  return complete(nodeDetailSlicesAt(snap, request, now, ctx, limits));
}

/** The same answer in slices. */
export function* nodeDetailSlicesAt(
  snap: Snapshot,
  request: unknown,
  now: number,
  ctx: RequestContext,
  limits: HistoriesLimits,
): Slices<NodeDetail> {
  const r = parseRequest(NODE_DETAIL, request);
  const limit = r.histories_limit ?? limits.historiesDefaultLimit;
  if (limit > limits.historiesMaxLimit) throw invalid('histories_limit', `must be at most ${limits.historiesMaxLimit}`);
  const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
  return yield* nodeDetailSlices(task, resolveNode(task, r.node_id), now, r.with_ex_data, { offset: r.histories_offset, limit });
}
