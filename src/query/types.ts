/** The answers of SPEC §3.2 and §4, as the query layer builds them. The caller owns them. */
import type { Json, State } from '../lifecycle/index.js';

/** The stored states, plus NODE_SUSPENDED, which is only ever derived (SPEC §3.3). */
export type ShownState = State | 'NODE_SUSPENDED';

/**
 * An object keyed by node ids. It has no prototype at all, so every id, `__proto__` and
 * `constructor` included, is an ordinary own key. As in every JS object, integer-like keys
 * ("2", "10") enumerate (and serialize) first, in ascending order, before the others.
 */
export interface IdKeyed<T> {
  [nodeId: string]: T;
}

/** One node of a status answer, keys in the order of SPEC §3.2. */
export interface NodeStatus {
  id: string;
  state: ShownState;
  name: string;
  retry: number;
  loop: number;
  skip: boolean;
  error_ignorable: boolean;
  version: string;
  state_refresh_at: string;
  elapsed_time: number;
  children: IdKeyed<NodeStatus>;
  start_time: string;
  finish_time: string;
  /** on the answered root only, when asked for and the root is shown FAILED (SPEC §3.4) */
  ex_data?: IdKeyed<Json>;
}

/** A task's root answer without its children (SPEC §4, get_tasks_status). */
export type NodeStatusSummary = Omit<NodeStatus, 'children' | 'ex_data'>;

export interface TaskStatusEntry {
  id: string;
  name: string;
  status: NodeStatus | NodeStatusSummary;
}

/** One ended attempt of a node (SPEC §4, get_task_node_detail). */
export interface HistoryEntry {
  state: State;
  version: string;
  loop: number;
  retry: number;
  skip: boolean;
  error_ignorable: boolean;
  start_time: string;
  finish_time: string;
  elapsed_time: number;
  ex_data: Json;
}

export interface NodeDetail extends NodeStatus {
  /** one page of the ended attempts the node keeps, oldest first (by default the newest 100) */
  histories: HistoryEntry[];
  /** ended attempts the node keeps: every page together */
  histories_total: number;
  /** the oldest ended attempts dropped to keep at most the cap (default 1,000) */
  histories_dropped: number;
}
