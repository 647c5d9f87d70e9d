/**
 * The endpoints an orchestrator uses to keep pipestate in step with the runs it drives:
 * `create_task` registers a task's pipeline definition under an id the service assigns,
 * `node_event` reports that a node started, finished, failed or was entered again, and
 * `delete_task` lets go of a task that is over. Requests are read and resolved exactly as the
 * queries' are (same field readers, project by scope, permission, task in project, node in task),
 * so the answers and messages match; the store then checks the move against the lifecycle.
 */
import type { Operation } from '../../lifecycle/index.js';
import { PipestateError, invalid, type NodeDefinition } from '../../model/index.js';
import type { OperationArgs } from '../../store/index.js';
import { fromError, ok } from '../envelope.js';
import { NODE_DETAIL, OPERATE_NODE, TASK_STATUS, parseRequest } from '../requests.js';
import { resolveNode, resolveProject, resolveTask } from '../resolve.js';
import type { Envelope, RequestContext } from '../types.js';
import type { Params } from './body.js';
import type { EnginePort } from './port.js';

/** The events an orchestrator reports, and the store operation each one is. */
const NODE_EVENTS: ReadonlyMap<string, { readonly op: Operation; readonly exData: boolean }> = new Map([
  ['start', { op: 'start', exData: false }],
  ['finish', { op: 'finish', exData: false }],
  ['fail', { op: 'fail', exData: true }],
  ['reenter', { op: 'reenter', exData: false }],
]);

const requiredText = (v: unknown, field: string): string => {
  if (typeof v !== 'string') throw invalid(field, v === undefined || v === null ? 'is required' : 'must be a string');
  return v;
};

const event = (v: unknown, field: string): { readonly name: string; readonly op: Operation; readonly exData: boolean } => {
  const e = typeof v === 'string' ? NODE_EVENTS.get(v) : undefined;
  if (!e) throw invalid(field, `must be one of ${[...NODE_EVENTS.keys()].join(', ')}`);
  return { name: v as string, ...e };
};

const CREATE_TASK = {
  bk_biz_id: TASK_STATUS.bk_biz_id,
  scope: TASK_STATUS.scope,
  // Ids are the service's to give (as bk-sops' create_task does): a client choosing one could
  // learn that another project holds it, or take it before that project does.
  task_id: (v: unknown, field: string): undefined => {
    if (v !== undefined) throw invalid(field, 'is assigned by the service');
    return undefined;
  },
  name: requiredText,
  // checked in full by the store when it compiles the definition
  pipeline: (v: unknown, field: string): NodeDefinition => {
    if (v === undefined || v === null) throw invalid(field, 'is required');
    return v as NodeDefinition;
  },
};

const NODE_EVENT = {
  bk_biz_id: TASK_STATUS.bk_biz_id,
  scope: TASK_STATUS.scope,
  task_id: TASK_STATUS.task_id,
  node_id: NODE_DETAIL.node_id,
  event,
  version: OPERATE_NODE.version,
  ex_data: OPERATE_NODE.ex_data,
};

const DELETE_TASK = {
  bk_biz_id: TASK_STATUS.bk_biz_id,
  scope: TASK_STATUS.scope,
  task_id: TASK_STATUS.task_id,
};

/**
 * create_task: `{bk_biz_id, scope?, name, pipeline}` → `{task_id, project_id, name, created_at, cursor}`,
 * `task_id` the id the service assigned, as a JSON number (as bk-sops answers it), `cursor` the
 * registration's seq (DECISIONS 4: commands answer with their cursor).
 */
export function createTask(engine: EnginePort, params: Params, ctx: RequestContext): Envelope<unknown> {
  return answer(ctx, () => {
    const r = parseRequest(CREATE_TASK, params);
    const project = resolveProject(engine.snapshot(), r, ctx);
    const task = engine.createTask({ project_id: project.id, name: r.name, pipeline: r.pipeline });
    // The registration is the engine's latest change: a watcher resumes after it from this cursor.
    const { cursor } = engine.snapshot();
    return {
      task_id: Number(task.id),
      project_id: task.project_id,
      name: task.name,
      created_at: new Date(task.created_at).toISOString(),
      cursor,
    };
  });
}

/**
 * delete_task: `{bk_biz_id, scope?, task_id}` → `{task_id, cursor}`. Only a task whose root never
 * started or is FINISHED or REVOKED (else 3545000); its project's quotas get back what it held.
 */
export function deleteTask(engine: EnginePort, params: Params, ctx: RequestContext): Envelope<unknown> {
  return answer(ctx, () => {
    const r = parseRequest(DELETE_TASK, params);
    const snap = engine.snapshot();
    resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
    const deleted = engine.deleteTask(r.task_id);
    return { task_id: deleted.taskId, cursor: deleted.seq };
  });
}

/**
 * node_event: `{bk_biz_id, scope?, task_id, node_id, event, ex_data?, version?}` → the node's new
 * state, version and counters (the orchestrator needs the version a start produced), and the
 * change's cursor in the watch stream.
 */
export function nodeEvent(engine: EnginePort, params: Params, ctx: RequestContext): Envelope<unknown> {
  return answer(ctx, () => {
    const r = parseRequest(NODE_EVENT, params);
    if (r.ex_data !== undefined && !r.event.exData) throw invalid('ex_data', `a ${r.event.name} event carries no ex_data`);
    const snap = engine.snapshot();
    const task = resolveTask(snap, resolveProject(snap, r, ctx), r.task_id);
    resolveNode(task, r.node_id);
    const args: OperationArgs = {
      ...(r.version !== undefined ? { version: r.version } : {}),
      ...(r.ex_data !== undefined ? { ex_data: r.ex_data } : {}),
    };
    const [change] = engine.apply(r.task_id, r.node_id, r.event.op, args);
    const { state, version, loop, retry, skip, error_ignored } = change.record;
    return { task_id: r.task_id, node_id: r.node_id, state, version, loop, retry, skip, error_ignored, cursor: change.seq };
  });
}

/**
 * The envelope of `run`'s result, or of the refusal it threw. Any other error is a bug and is
 * thrown on, for the handler to log with the request id and answer as 3599999.
 */
function answer(ctx: RequestContext, run: () => unknown): Envelope<unknown> {
  try {
    return ok(run(), ctx);
  } catch (error) {
    if (error instanceof PipestateError) return fromError(error, ctx);
    throw error;
  }
}
