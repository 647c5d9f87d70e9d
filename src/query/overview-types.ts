/**
 * The overview answers (get_task_summary, get_task_list, get_task_nodes) as plain types: what a
 * client reads. Built by overview.ts; imports nothing but types, so a browser bundle can use it.
 */
import type { Json, NodeKind, State } from '../lifecycle/index.js';
import type { ShownState } from './types.js';

/** Nodes (or leaves) in each stored state. */
export type StateCounts = Record<State, number>;

/** Leaves finished, of all leaves (Argo's "6/10"). */
export interface Progress {
  finished: number;
  total: number;
}

/** get_task_summary: one subtree's roll-up and times. */
export interface TaskSummary {
  /** the subtree's root node */
  id: string;
  /** the node's name; the task's name for the task's pipeline */
  name: string;
  /** nodes of the subtree in each stored state (CREATED included) */
  counts: StateCounts;
  /** the subtree's leaves in each stored state */
  leaves: StateCounts;
  progress: Progress;
  start_time: string;
  finish_time: string;
  elapsed_time: number;
}

/** get_task_list: one task (bk-sops' fields that pipestate has, then pipestate's own). */
export interface TaskListItem {
  id: number | string;
  name: string;
  /** ISO UTC with ms, or in `expected_timezone` as `YYYY-MM-DD HH:mm:ss +0800`; null when unset */
  start_time: string | null;
  finish_time: string | null;
  /** the root has left CREATED */
  is_started: boolean;
  /** the root is FINISHED */
  is_finished: boolean;
  project_id: number | string;
  project_name: string;
  bk_biz_id: number | string | null;
  /** the project's name when it is bound to a business (as bk-sops names CMDB projects) */
  bk_biz_name: string | null;
  /** the root's state as get_task_status shows it (SPEC §3.3) */
  state: ShownState;
  elapsed_time: number;
  progress: Progress;
  /** nodes of the task in each stored state */
  counts: StateCounts;
}

/** One attempt of a node, as a timeline draws it: its state, counters and times (ISO UTC or null). */
export interface AttemptRow {
  /** the stored state (not the derived one of SPEC §3.3) */
  state: State;
  loop: number;
  retry: number;
  skip: boolean;
  error_ignored: boolean;
  started_at: string | null;
  finished_at: string | null;
}

/** One node: its definition and its stored runtime record (SPEC §1): the current attempt and more. */
export interface TaskNodeRow extends AttemptRow {
  id: string;
  name: string;
  kind: NodeKind;
  /** preorder number of the parent; -1 for the root */
  parent: number;
  /** defined error_ignorable */
  error_ignorable: boolean;
  version: string;
  ex_data: Json;
  /** the newest ended attempts, oldest first */
  attempts: AttemptRow[];
  /** ended attempts in all, kept or dropped by the store's cap: the newest of them are `attempts` */
  attempts_ended: number;
}

/** get_task_nodes: nodes [offset, next_offset) in preorder (a node's parent comes before it). */
export interface TaskNodesPage {
  task_id: string;
  name: string;
  created_at: string;
  /** the engine clock at the answer, ISO UTC: a client ticks durations from it */
  now: string;
  /** the cursor of the last change the page includes: a watch's changes above it are news to it */
  cursor: number;
  /** nodes in the task */
  total: number;
  offset: number;
  /** where the next page starts; null after the last node */
  next_offset: number | null;
  nodes: TaskNodeRow[];
}
