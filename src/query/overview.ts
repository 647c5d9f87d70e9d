/**
 * The answers an overview of tasks is built on (the web view reads nothing else besides the
 * status and detail answers): a subtree's roll-up (get_task_summary), a task as one row of a
 * list (get_task_list, the fields of bk-sops' answer that pipestate has, plus roll-ups), and a
 * task's nodes with their definitions and stored records, a page at a time (get_task_nodes).
 * Counts come from the store's roll-ups, never from a walk of the subtree.
 */
import { TRAIT_ERROR_IGNORABLE, kindOf, type Project } from '../model/index.js';
import { historyPageAt, progressOf, recordAt, rollupAt, type Rollup, type TaskView } from '../store/index.js';
import { elapsedAt, timesOf } from './record-times.js';
import { statusTree } from './status-tree.js';
import { isoUtcText } from './time-text.js';
import type { TaskListItem, TaskNodeRow, TaskNodesPage, TaskSummary } from './overview-types.js';
import type { ShownState } from './types.js';
import type { ZonedTimeFormat } from './zoned-format.js';

export function taskSummary(task: TaskView, i: number, now: number): TaskSummary {
  const rollup = rollupAt(task, i);
  const times = timesOf(task).of(i, recordAt(task, i));
  return {
    id: task.definition.ids[i],
    name: i === 0 ? task.task.name : task.definition.names[i],
    counts: rollup.nodes,
    leaves: rollup.leaves,
    progress: progressOf(rollup),
    start_time: times.start_time,
    finish_time: times.finish_time,
    elapsed_time: elapsedAt(times, now),
  };
}

/** An id as bk-sops writes ids in list answers: a JSON number, unless that would change it. */
export function numericId(id: string): number | string {
  const n = Number(id);
  return Number.isSafeInteger(n) && String(n) === id ? n : id;
}

/**
 * What the root shows. Only a RUNNING root shows anything but its own state, and only when some
 * node below is FAILED or SUSPENDED: the roll-up says so at once, and only then is the tree read.
 */
function shownRoot(task: TaskView, rollup: Rollup, now: number): ShownState {
  const own = recordAt(task, 0).state;
  if (own !== 'RUNNING' || (rollup.nodes.FAILED === 0 && rollup.nodes.SUSPENDED === 0)) return own;
  return statusTree(task, 0, now, { withChildren: false, withExData: false }).state;
}

export function taskListItem(task: TaskView, project: Project, now: number, zone: ZonedTimeFormat | undefined): TaskListItem {
  const record = recordAt(task, 0);
  const rollup = rollupAt(task, 0);
  const time = (ms: number | null): string | null => (ms === null ? null : zone ? zone.format(ms) : isoUtcText(ms));
  return {
    id: numericId(task.task.id),
    name: task.task.name,
    start_time: time(record.started_at),
    finish_time: time(record.finished_at),
    is_started: record.state !== 'CREATED',
    is_finished: record.state === 'FINISHED',
    project_id: numericId(project.id),
    project_name: project.name,
    bk_biz_id: project.bk_biz_id === null ? null : numericId(project.bk_biz_id),
    bk_biz_name: project.bk_biz_id === null ? null : project.name,
    state: shownRoot(task, rollup, now),
    elapsed_time: elapsedAt(timesOf(task).of(0, record), now),
    progress: progressOf(rollup),
    counts: rollup.nodes,
  };
}

export interface PageLimits {
  /** nodes in one page */
  readonly nodes: number;
  /** ended attempts per node */
  readonly attemptsPerNode: number;
  /** ended attempts in one page: a page ends early rather than pass it (but holds one node at least) */
  readonly attempts: number;
  /** characters of error data (as JSON) in one page: likewise */
  readonly exDataChars: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : isoUtcText(ms));

export function taskNodesPage(task: TaskView, offset: number, limits: PageLimits, now: number, cursor: number): TaskNodesPage {
  const def = task.definition;
  const nodes: TaskNodeRow[] = [];
  let attempts = 0;
  let exDataChars = 0;
  let i = offset;
  for (; i < def.size && nodes.length < limits.nodes; i++) {
    const r = recordAt(task, i);
    // the newest attempts only (a history is capped, but its cap is the store's to choose)
    const history = historyPageAt(task, i, 0, limits.attemptsPerNode);
    // Error data is whatever the orchestrator sent: a page of failed nodes must not grow without bound.
    const chars = r.ex_data === undefined ? 0 : JSON.stringify(r.ex_data).length;
    if (nodes.length > 0 && (attempts + history.attempts.length > limits.attempts || exDataChars + chars > limits.exDataChars)) break;
    attempts += history.attempts.length;
    exDataChars += chars;
    nodes.push({
      id: def.ids[i],
      name: def.names[i],
      kind: kindOf(def, i),
      parent: def.parent[i],
      error_ignorable: (def.traits[i] & TRAIT_ERROR_IGNORABLE) !== 0,
      state: r.state,
      version: r.version,
      loop: r.loop,
      retry: r.retry,
      skip: r.skip,
      error_ignored: r.error_ignored,
      started_at: iso(r.started_at),
      finished_at: iso(r.finished_at),
      ex_data: r.ex_data ?? null,
      attempts: history.attempts.map((a) => ({
        state: a.state,
        loop: a.loop,
        retry: a.retry,
        skip: a.skip,
        error_ignored: a.error_ignored,
        started_at: iso(a.started_at),
        finished_at: iso(a.finished_at),
      })),
      attempts_ended: history.total + history.dropped,
    });
  }
  return {
    task_id: task.task.id,
    name: task.task.name,
    created_at: isoUtcText(task.task.created_at),
    now: isoUtcText(now),
    cursor,
    total: def.size,
    offset,
    next_offset: i < def.size ? i : null,
    nodes,
  };
}
