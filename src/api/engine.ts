/**
 * The engine: the store (operations, snapshots, events) plus the request-shaped API of SPEC
 * §3–4. Each API method takes the request as it arrived (`unknown`: it is checked here), an
 * optional RequestContext, and answers the envelope of §3.5. None of them ever throws: a
 * PipestateError becomes its code and message; anything else is 3599999, and is reported to
 * `onUnexpectedError` without reaching the client.
 *
 * A query reads one snapshot and one clock reading, so its answer is consistent even while
 * operations continue.
 */
import { ok, fromError } from './envelope.js';
import { operateNodeIn, operateTaskIn, type OperationResult } from './commands.js';
import {
  missingMessage,
  nodeDetailAt,
  nodeDetailSlicesAt,
  taskStatusAt,
  taskStatusSlices,
  tasksStatusAt,
  tasksStatusSlices,
} from './queries.js';
import { taskListAt, taskNodesAt, taskSummaryAt } from './overview.js';
import { PolicyScheduler, systemTimers, type Timers } from '../policy/index.js';
import { complete, type Slices } from '../model/index.js';
import type { NodeDetail, NodeStatus, TaskListItem, TaskNodesPage, TaskStatusEntry, TaskSummary } from '../query/index.js';
import { Store, type NodeChange, type Snapshot, type StoreOptions } from '../store/index.js';
import { compileTaskUrl, type TaskUrl } from './task-url.js';
import type { Envelope, RequestContext } from './types.js';

export interface EngineOptions extends StoreOptions {
  /** hears errors that are not PipestateErrors (bugs); default: written to stderr */
  readonly onUnexpectedError?: (error: unknown) => void;
  /**
   * When the engine's own operations (auto_retry and timeout policies) fall due, on `clock`.
   * Default: node's timers. Tests pass a ManualClock as both `clock` and `timers`.
   */
  readonly timers?: Timers;
  /**
   * get_tasks_status `url` of a task: a template with {task_id}, {project_id}, {bk_biz_id}, e.g.
   * `https://sops.example.com/taskflow/execute/{project_id}/?instance_id={task_id}`. Default: "".
   */
  readonly taskUrl?: string;
}

/** Where the engine keeps its state: memory only, or a journal (see DurableEngine). */
export type StorageStatus =
  | { readonly storage: 'memory' }
  | {
      readonly storage: 'journal';
      /** the data directory */
      readonly data_dir: string;
      readonly durability: string;
      /** "ok", or why writes are refused now */
      readonly journal: string;
    };

const reportToStderr = (error: unknown): void => {
  console.error('pipestate: unexpected error answering a request', error);
};

/** The context as far as it is well formed: ids that are strings, a `canSee` that is a function. */
function contextOf(ctx: unknown): RequestContext {
  if (typeof ctx !== 'object' || ctx === null) return {};
  const { request_id: requestId, trace_id: traceId, canSee } = ctx as Record<string, unknown>;
  return {
    ...(typeof requestId === 'string' ? { request_id: requestId } : {}),
    ...(typeof traceId === 'string' ? { trace_id: traceId } : {}),
    ...(typeof canSee === 'function' ? { canSee: canSee as RequestContext['canSee'] } : {}),
  };
}

export class Engine extends Store {
  private readonly onUnexpected: (error: unknown) => void;
  private readonly taskUrl: TaskUrl;
  /** performs the nodes' auto_retry and timeout policies */
  readonly policies: PolicyScheduler;

  constructor(options: EngineOptions = {}) {
    super(options);
    this.onUnexpected = options.onUnexpectedError ?? reportToStderr;
    this.taskUrl = compileTaskUrl(options.taskUrl);
    this.policies = new PolicyScheduler(this, options.timers ?? systemTimers(this.clock), (e) => this.onUnexpected(e));
  }

  /**
   * get_task_status (SPEC §3): `{bk_biz_id, task_id, subprocess_id?, with_ex_data?,
   * with_failed_node_info?, with_auto_retry_status?, scope?}`.
   */
  getTaskStatus(request: unknown, ctx?: RequestContext): Envelope<NodeStatus> {
    return complete(this.getTaskStatusSliced(request, ctx));
  }

  /** @internal get_task_status in a given snapshot (one that also holds an archived task). */
  taskStatusIn(snap: Snapshot, request: unknown, ctx?: RequestContext): Envelope<NodeStatus> {
    return this.answer(ctx, (c) => taskStatusAt(snap, request, this.clock(), c));
  }

  /**
   * get_tasks_status (SPEC §4): `{bk_biz_id, task_id_list, include_children_status?, scope?}`.
   * Tasks not found are left out of `data` and named in `message`; the result stays true.
   */
  getTasksStatus(request: unknown, ctx?: RequestContext): Envelope<TaskStatusEntry[]> {
    return complete(this.getTasksStatusSliced(request, ctx));
  }

  /** @internal get_tasks_status in a given snapshot. */
  tasksStatusIn(snap: Snapshot, request: unknown, ctx?: RequestContext): Envelope<TaskStatusEntry[]> {
    const c = contextOf(ctx);
    try {
      const { data, missing } = tasksStatusAt(snap, request, this.clock(), c, this.taskUrl);
      return { ...ok(data, c), message: missingMessage(missing) };
    } catch (error) {
      return this.failed(error, c);
    }
  }

  /**
   * get_task_node_detail (SPEC §4): `{bk_biz_id, task_id, node_id, with_ex_data?, scope?,
   * histories_limit?, histories_offset?}`; histories are paged from the newest (limits.ts).
   */
  getTaskNodeDetail(request: unknown, ctx?: RequestContext): Envelope<NodeDetail> {
    return complete(this.getTaskNodeDetailSliced(request, ctx));
  }

  /*
   * The three queries again, as work in slices (see model/slices.ts): the same answers, built
   * between checkpoints so that a server can interleave other requests. Each reads one snapshot
   * and one clock reading, taken at the first step.
   */

  *getTaskStatusSliced(request: unknown, ctx?: RequestContext): Slices<Envelope<NodeStatus>> {
    return yield* this.answerSliced(ctx, (c) => taskStatusSlices(this.snapshot(), request, this.clock(), c));
  }

  *getTasksStatusSliced(request: unknown, ctx?: RequestContext): Slices<Envelope<TaskStatusEntry[]>> {
    const c = contextOf(ctx);
    try {
      const { data, missing } = yield* tasksStatusSlices(this.snapshot(), request, this.clock(), c, this.taskUrl);
      return { ...ok(data, c), message: missingMessage(missing) };
    } catch (error) {
      return this.failed(error, c);
    }
  }

  *getTaskNodeDetailSliced(request: unknown, ctx?: RequestContext): Slices<Envelope<NodeDetail>> {
    return yield* this.answerSliced(ctx, (c) => nodeDetailSlicesAt(this.snapshot(), request, this.clock(), c, this.limits));
  }

  /** @internal get_task_node_detail in a given snapshot. */
  taskNodeDetailIn(snap: Snapshot, request: unknown, ctx?: RequestContext): Envelope<NodeDetail> {
    return this.answer(ctx, (c) => nodeDetailAt(snap, request, this.clock(), c, this.limits));
  }

  /** get_task_summary: `{bk_biz_id, task_id, subprocess_id?, scope?}` → counts per state, progress, times of the subtree. */
  getTaskSummary(request: unknown, ctx?: RequestContext): Envelope<TaskSummary> {
    return this.answer(ctx, (c) => taskSummaryAt(this.snapshot(), request, this.clock(), c));
  }

  /**
   * get_task_list (bk-sops): `{bk_biz_id, scope?, keyword?, is_started?, is_finished?,
   * root_state?, limit?, offset?, without_count?, expected_timezone?}` → a page of the project's
   * tasks, newest first, with `count` (the tasks matching) beside `data`, as bk-sops answers.
   */
  getTaskList(request: unknown, ctx?: RequestContext): Envelope<TaskListItem[]> & { readonly count?: number } {
    const c = contextOf(ctx);
    try {
      const { data, count } = taskListAt(this.snapshot(), (p) => this.taskListOf(p), request, this.clock(), c);
      const { result, code, message, request_id, trace_id } = ok(data, c);
      return { result, data, count, code, message, request_id, trace_id };
    } catch (error) {
      return this.failed(error, c);
    }
  }

  /** get_task_nodes: `{bk_biz_id, task_id, offset?, limit?, scope?}` → a page of the task's nodes in preorder. */
  getTaskNodes(request: unknown, ctx?: RequestContext): Envelope<TaskNodesPage> {
    return this.answer(ctx, (c) => taskNodesAt(this.snapshot(), request, this.clock(), c));
  }

  /** operate_task (SPEC §4): `{bk_biz_id, task_id, action: pause | resume | revoke, scope?}`. */
  operateTask(request: unknown, ctx?: RequestContext): Envelope<OperationResult> {
    return this.answer(ctx, (c) => operateTaskIn(this, request, c));
  }

  /**
   * operate_node (SPEC §4): `{bk_biz_id, task_id, node_id, action, version?, ex_data?, data?,
   * scope?}`, action one of retry, skip, pause, resume, forced_fail (with ex_data), callback
   * (with data).
   */
  operateNode(request: unknown, ctx?: RequestContext): Envelope<OperationResult> {
    return this.answer(ctx, (c) => operateNodeIn(this, request, c));
  }

  /** Where the state is kept: in memory only, or a journal and its state. */
  storageStatus(): StorageStatus {
    const j = this.journalStatus();
    return j === undefined ? { storage: 'memory' } : { storage: 'journal', data_dir: j.storage, durability: j.mode, journal: j.journal };
  }

  /** Node changes from before this process started that watchers may resume from: none in memory. */
  recentChanges(): readonly NodeChange[] {
    return [];
  }

  /** Releases what the engine holds: nothing in memory (a DurableEngine writes and closes its journal). */
  close(): Promise<void> {
    this.policies.close();
    return Promise.resolve();
  }

  private answer<T>(ctx: unknown, run: (ctx: RequestContext) => T): Envelope<T> {
    const c = contextOf(ctx);
    try {
      return ok(run(c), c);
    } catch (error) {
      return this.failed(error, c);
    }
  }

  private *answerSliced<T>(ctx: unknown, run: (ctx: RequestContext) => Slices<T>): Slices<Envelope<T>> {
    const c = contextOf(ctx);
    try {
      return ok(yield* run(c), c);
    } catch (error) {
      return this.failed(error, c);
    }
  }

  private failed<T>(error: unknown, ctx: RequestContext): Envelope<T> {
    try {
      return fromError(error, ctx, this.onUnexpected);
    } catch {
      // onUnexpectedError itself threw: still answer, and still without internals.
      return fromError(new Error('unexpected'), ctx);
    }
  }
}

/** A new in-memory engine (SPEC §5). */
export function createEngine(options?: EngineOptions): Engine {
  return new Engine(options);
}
