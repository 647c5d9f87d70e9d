/**
 * operate_task and operate_node (SPEC §4): a client's command, resolved like a query (project by
 * scope, permission, task in project, node in task) and then applied through the store, which
 * checks it against the lifecycle (§2) and refuses with 3545000 and the reason.
 */
import type { Json, NodeRecord, Operation, State } from '../lifecycle/index.js';
import type { NodeChange, OperationArgs, Store } from '../store/index.js';
import { isoUtcText } from '../query/index.js';
import { OPERATE_NODE, OPERATE_TASK, parseRequest, type NodeAction, type TaskAction } from './requests.js';
import { resolveNode, resolveProject, resolveTask } from './resolve.js';
import type { RequestContext } from './types.js';

/** One node an accepted command changed (a revoke changes the root's active descendants too). */
export interface ChangedNode {
  id: string;
  from: State;
  /** the stored state now (not the derived one of SPEC §3.3) */
  state: State;
  /** the node's version now: send it back with the next command to guard against races */
  version: string;
  state_refresh_at: string;
}

/** What operate_task and operate_node answer on success. */
export interface OperationResult {
  task_id: string;
  node_id: string;
  action: TaskAction | NodeAction;
  /** in the order the store applied them: the operated node first */
  changes: ChangedNode[];
}

/** operate_task: pause, resume or revoke the task's root pipeline. */
export function operateTaskIn(store: Store, request: unknown, ctx: RequestContext): OperationResult {
  const r = parseRequest(OPERATE_TASK, request);
  const snap = store.snapshot();
  const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
  const rootId = task.definition.ids[0];
  return result(r.task_id, rootId, r.action, store.apply(r.task_id, rootId, r.action));
}

/** operate_node: retry, skip, pause, resume, forced_fail or callback one node. */
export function operateNodeIn(store: Store, request: unknown, ctx: RequestContext): OperationResult {
  const r = parseRequest(OPERATE_NODE, request);
  const snap = store.snapshot();
  const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
  resolveNode(task, r.node_id);
  const args = argsFor(r.action, r.version, r.ex_data, r.data);
  return result(r.task_id, r.node_id, r.action, store.apply(r.task_id, r.node_id, r.action as Operation, args));
}

/** Only the arguments the action takes: ex_data goes with forced_fail, data with callback. */
function argsFor(action: NodeAction, version: string | undefined, exData: Json | undefined, data: Json | undefined): OperationArgs {
  return {
    ...(version !== undefined ? { version } : {}),
    ...(action === 'forced_fail' && exData !== undefined ? { ex_data: exData } : {}),
    ...(action === 'callback' && data !== undefined ? { data } : {}),
  };
}

function result(taskId: string, nodeId: string, action: TaskAction | NodeAction, changes: readonly NodeChange[]): OperationResult {
  return { task_id: taskId, node_id: nodeId, action, changes: changes.map(changed) };
}

const changed = (c: NodeChange): ChangedNode => changedNode(c.nodeId, c.from, c.record);

function changedNode(id: string, from: State, record: NodeRecord): ChangedNode {
  return { id, from, state: record.state, version: record.version, state_refresh_at: isoUtcText(record.state_refresh_at) };
}
