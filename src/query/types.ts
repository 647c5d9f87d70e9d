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
  /** on the answered root only, with `with_failed_node_info` (bk-sops' key and shape) */
  failed_node_info?: IdKeyed<FailedNodeInfo>;
  /** on the answered root only, with `with_auto_retry_status` (bk-sops' key and shape) */
  auto_retry_status?: AutoRetryStatus;
}

/**
 * What bk-sops says about one failed node: `{}`, or, for a node with an auto_retry policy,
 * `{node_id, auto_retry_times, max_auto_retry_times}` (gcloud/taskflow3/utils.py).
 */
export interface FailedNodeInfo {
  node_id?: string;
  auto_retry_times?: number;
  max_auto_retry_times?: number;
}

/** The failed nodes still waiting for an automatic retry. */
export interface AutoRetryStatus {
  exist_auto_retry_nodes: boolean;
  auto_retry_nodes: string[];
}

/** A task's root answer without its children (SPEC §4, get_tasks_status). */
export type NodeStatusSummary = Omit<NodeStatus, 'children' | 'ex_data' | 'failed_node_info' | 'auto_retry_status'>;

/**
 * One task of a get_tasks_status answer, with bk-sops' keys in bk-sops' order
 * (gcloud/apigw/views/get_tasks_status.py); docs/bk-sops-parity.md says how each is derived.
 */
export interface TaskStatusEntry {
  /** a JSON number, as bk-sops answers it */
  id: number;
  name: string;
  status: NodeStatus | NodeStatusSummary;
  /** always "common": pipestate has no functional-claim tasks */
  flow_type: 'common';
  /** "finished" once the root is FINISHED or REVOKED, else "execute_task" */
  current_flow: 'execute_task' | 'finished';
  /** always false: a deleted task is not answered at all */
  is_deleted: false;
  /** `YYYY-MM-DD HH:mm:ss ±hhmm` in the project's zone, as start_time and finish_time */
  create_time: string;
  /** the root's start and finish, "" when unset */
  start_time: string;
  finish_time: string;
  /** from the engine's taskUrl template; "" when none is configured */
  url: string;
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
