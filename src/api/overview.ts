/**
 * The overview APIs as pure functions of what they read, like queries.ts: get_task_summary and
 * get_task_nodes read one snapshot; get_task_list reads the project's task index (tasks by root
 * state) together with the snapshot of the same moment. They throw PipestateErrors; the engine
 * turns them into envelopes.
 */
import type { State } from '../lifecycle/index.js';
import { invalid } from '../model/index.js';
import {
  ZonedTimeFormat,
  taskListItem,
  taskNodesPage,
  taskSummary,
  type TaskListItem,
  type TaskNodesPage,
  type TaskSummary,
} from '../query/index.js';
import { ALL_STATES, maskOf, type ProjectTaskList, type Snapshot, type StateMask } from '../store/index.js';
import { TASK_LIST, TASK_LIST_MAX, TASK_NODES, TASK_NODES_MAX, TASK_SUMMARY } from './overview-requests.js';
import { parseRequest, type Parsed } from './requests.js';
import { resolveNode, resolveProject, resolveTask } from './resolve.js';
import type { RequestContext } from './types.js';

/** get_task_summary: the roll-up of the task, or of the subtree of `subprocess_id`. */
export function taskSummaryAt(snap: Snapshot, request: unknown, now: number, ctx: RequestContext): TaskSummary {
  const r = parseRequest(TASK_SUMMARY, request);
  const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
  return taskSummary(task, r.subprocess_id === undefined ? 0 : resolveNode(task, r.subprocess_id), now);
}

/** Bounds of one get_task_nodes page besides `limit`. */
const ATTEMPTS_PER_NODE = 100;
const ATTEMPTS_PER_PAGE = 20_000;
const EX_DATA_CHARS_PER_PAGE = 4 << 20;

/** get_task_nodes: a page of the task's nodes in preorder, definitions and stored records. */
export function taskNodesAt(snap: Snapshot, request: unknown, now: number, ctx: RequestContext): TaskNodesPage {
  const r = parseRequest(TASK_NODES, request);
  if (r.limit === 0) throw invalid('limit', 'must be at least 1');
  const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
  if (r.offset > task.definition.size) throw invalid('offset', `must be at most ${task.definition.size}, the task's node count`);
  const limits = {
    nodes: Math.min(r.limit, TASK_NODES_MAX),
    attemptsPerNode: ATTEMPTS_PER_NODE,
    attempts: ATTEMPTS_PER_PAGE,
    exDataChars: EX_DATA_CHARS_PER_PAGE,
  };
  return taskNodesPage(task, r.offset, limits, now, snap.cursor);
}

export interface TaskList {
  readonly data: TaskListItem[];
  /** tasks matching the filters; -1 when asked `without_count` */
  readonly count: number;
}

/** The root states the filters allow, as a mask. */
function statesOf(r: Parsed<typeof TASK_LIST>): StateMask {
  let mask = r.root_state === undefined || r.root_state.length === 0 ? ALL_STATES : maskOf(r.root_state);
  if (r.is_started !== undefined) mask &= r.is_started ? ALL_STATES & ~maskOf(['CREATED']) : maskOf(['CREATED']);
  if (r.is_finished !== undefined) mask &= r.is_finished ? maskOf(['FINISHED']) : ALL_STATES & ~maskOf(['FINISHED']);
  return mask;
}

/** One formatter per zone asked for: zones are canonical names, of which Intl knows some hundreds. */
const zoneFormats = new Map<string, ZonedTimeFormat>();
function zoneFormat(zone: string): ZonedTimeFormat {
  let f = zoneFormats.get(zone);
  if (f === undefined) {
    f = new ZonedTimeFormat(zone);
    zoneFormats.set(zone, f);
  }
  return f;
}

/**
 * The ids of a page of the project's tasks, newest first. Without a keyword the index answers
 * (a count is a sum, each task of the page one descent); a keyword is matched on the names of the
 * tasks whose root is in the states, newest first, stopping at the page's end when no count is
 * wanted.
 */
function pageIds(list: ProjectTaskList | undefined, states: StateMask, r: Parsed<typeof TASK_LIST>): { ids: string[]; count: number } {
  const limit = Math.min(r.limit, TASK_LIST_MAX);
  if (list === undefined) return { ids: [], count: r.without_count ? -1 : 0 };
  if (r.keyword === '') {
    const count = list.count(states);
    const ids: string[] = [];
    for (let rank = r.offset; rank < Math.min(count, r.offset + limit); rank++) ids.push(list.newest(states, rank)!);
    return { ids, count: r.without_count ? -1 : count };
  }
  const ids: string[] = [];
  let matched = 0;
  list.scanNewestFirst((taskId, name, state: State) => {
    if ((states & maskOf([state])) === 0 || !name.includes(r.keyword)) return false;
    if (matched >= r.offset && ids.length < limit) ids.push(taskId);
    matched++;
    return r.without_count && ids.length === limit;
  });
  return { ids, count: r.without_count ? -1 : matched };
}

/**
 * get_task_list (bk-sops): the project's tasks, newest first, filtered by `keyword` (in the
 * name), `is_started`, `is_finished` and pipestate's `root_state`, paged by `limit` (at most
 * 200) and `offset`.
 */
export function taskListAt(
  snap: Snapshot,
  list: (projectId: string) => ProjectTaskList | undefined,
  request: unknown,
  now: number,
  ctx: RequestContext,
): TaskList {
  const r = parseRequest(TASK_LIST, request);
  const project = resolveProject(snap, r, ctx);
  const { ids, count } = pageIds(list(project.id), statesOf(r), r);
  const zone = r.expected_timezone === undefined ? undefined : zoneFormat(r.expected_timezone);
  const data: TaskListItem[] = [];
  for (const taskId of ids) {
    const task = snap.getTask(taskId);
    if (task !== undefined) data.push(taskListItem(task, project, now, zone));
  }
  return { data, count };
}
