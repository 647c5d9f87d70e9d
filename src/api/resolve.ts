/**
 * From the ids of a request to the things they name, in one snapshot: the project (read per
 * scope, SPEC §3.1), whether the caller may see it, the task inside it, the node inside that.
 * A task of another project is answered exactly as a missing one (SPEC §3.5), so the answer does
 * not reveal that it exists.
 */
import { hiddenProject, unboundBusiness, unknownNode, unknownProject, unknownTask, type Project } from '../model/index.js';
import type { Snapshot, TaskView } from '../store/index.js';
import type { Scope } from './requests.js';
import type { RequestContext } from './types.js';

export interface ScopedRequest {
  readonly bk_biz_id: string;
  readonly scope: Scope;
}

/** The project a request names; 3540400 when there is none, 3540100 when the caller may not see it. */
export function resolveProject(snap: Snapshot, request: ScopedRequest, ctx: RequestContext): Project {
  const { bk_biz_id: bizId, scope } = request;
  const project = scope === 'project' ? snap.getProject(bizId) : snap.getProjectByBizId(bizId);
  if (project === undefined) throw scope === 'project' ? unknownProject(bizId) : unboundBusiness(bizId);
  if (ctx.canSee !== undefined && ctx.canSee(project) !== true) throw hiddenProject(scope, bizId);
  return project;
}

/** The task, when it belongs to the project; else the same 3540400 as for no task at all. */
export function findTask(snap: Snapshot, project: Project, taskId: string): TaskView | undefined {
  const task = snap.getTask(taskId);
  return task !== undefined && task.task.project_id === project.id ? task : undefined;
}

export function resolveTask(snap: Snapshot, project: Project, taskId: string): TaskView {
  const task = findTask(snap, project, taskId);
  if (task === undefined) throw unknownTask(taskId);
  return task;
}

/** The preorder number of a node of the task; 3540400 when the task has no such node. */
export function resolveNode(task: TaskView, nodeId: string): number {
  const i = task.definition.indexOf(nodeId);
  if (i < 0) throw unknownNode(task.task.id, nodeId);
  return i;
}
