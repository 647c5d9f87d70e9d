/**
 * The store: the one place state changes. An operation is checked against the lifecycle table,
 * its effect computed by a pure function, and the result committed by copying one record and
 * one trie path (or none, when no snapshot has been taken since the path was last copied).
 * Events go out after the commit.
 */
import {
  CONTEXT_AT_RERUN_LIMIT,
  EFFECTS,
  MACHINE_OPERATIONS,
  STATES,
  endsAttempt,
  initialRecord,
  nextStateCode,
  REFUSED,
  type EngineOperation,
  type Json,
  type MachineOperation,
  type NodeRecord,
  type Operation,
  type State,
} from '../lifecycle/index.js';
import {
  DIGITS_PATTERN,
  MAX_TASK_ID,
  compileDefinition,
  invalid,
  isTaskId,
  jsonTextBytes,
  kindOf,
  refused,
  registrationsExhausted,
  toFrozenJson,
  undeletable,
  unknownNode,
  unknownProject,
  unknownTask,
  type PipelineDefinition,
  type Project,
  type ProjectInput,
  type Task,
  type TaskInput,
} from '../model/index.js';
import {
  ChangeFeed,
  reportToStderr,
  type EngineEventName,
  type EngineListener,
  type ListenerErrorHandler,
  type NodeChange,
  type TaskDeleted,
} from './events.js';
import { droppedByPush, historyExDataBytes, pushAttempt, type History } from './history.js';
import { JournalHold, type StoreMark } from './journal/hold.js';
import type { ChangeSink, JournalStatus, ReplayedMove, StoreInternals } from './journal/sink.js';
import { storeLimits, type StoreLimits } from './limits.js';
import { ProjectUsage, TaskUsage, quotasOf, type Quota, type QuotaTable, type Usage } from './quota.js';
import { refusal } from './refusal.js';
import { Registry, Removals } from './registry.js';
import { Snapshot } from './snapshot.js';
import { TaskListIndex, type ProjectTaskList } from './task-list-index.js';
import { firstActiveDescendant, isActive, recordAt, slotUnder, type TaskSlot } from './task-slot.js';
import { ACTIVE_CLASSES, ROLLUP_CLASSES, recordClass } from './rollup.js';
import { NO_CLASS, emptyTrie, forEachInRange, get, set, unset, visitClasses, type Edit, type Trie } from './trie.js';
import { randomVersion } from './version.js';

export interface StoreOptions {
  /** ms since the epoch; default Date.now */
  readonly clock?: () => number;
  /** how many times a node may be entered (SPEC §2); default 100 */
  readonly rerunLimit?: number;
  /** attempt versions; default random 32-hex */
  readonly newVersion?: () => string;
  /** size limits (definitions, ex_data, histories); defaults in DEFAULT_STORE_LIMITS */
  readonly limits?: Partial<StoreLimits>;
  /** what each project may hold; defaults in DEFAULT_QUOTA */
  readonly quotas?: QuotaTable;
  /** called when an event listener throws; default: written to stderr */
  readonly onListenerError?: ListenerErrorHandler;
}

/** A project's usage now, with the quota it is held to. */
export interface ProjectQuota {
  readonly usage: Usage;
  readonly quota: Quota;
}

export interface OperationArgs {
  /** refuse unless the node is at this version */
  readonly version?: string;
  /** fail, forced_fail: the error data */
  readonly ex_data?: Json;
  /** callback: what the orchestrator should receive */
  readonly data?: Json;
}

/** An operation a caller asks for, or one the engine's policies make (src/policy). */
export type AppliedOperation = Operation | EngineOperation;

/** Which arguments each operation takes besides `version`. */
const EXTRA_ARGS: Readonly<Record<AppliedOperation, readonly ('ex_data' | 'data')[]>> = {
  start: [],
  finish: [],
  fail: ['ex_data'],
  forced_fail: ['ex_data'],
  pause: [],
  resume: [],
  retry: [],
  skip: [],
  reenter: [],
  revoke: [],
  callback: ['data'],
  auto_retry: [],
};

/** The method names (SPEC §5) and the operation names (SPEC §2) both name an operation. */
const OPERATION_NAMES: ReadonlyMap<string, AppliedOperation> = new Map<string, AppliedOperation>([
  ...(Object.keys(EXTRA_ARGS) as AppliedOperation[]).map((op) => [op, op] as const),
  ['forcedFail', 'forced_fail'],
]);

/** What checkArgs answers for no arguments: the same shape as for any, so reading it stays monomorphic. */
const NO_ARGS = Object.freeze({ version: undefined, exData: undefined, data: undefined, exDataBytes: 0 });
const OP_CODE = new Map<MachineOperation, number>(MACHINE_OPERATIONS.map((op, i) => [op, i]));
const STATE_CODE = new Map<State, number>(STATES.map((s, i) => [s, i]));
const ANC_RUNNING = 0;
const ANC_SUSPENDED = 1;
const ANC_ARCHIVED = 2;

/** A task may be deleted when its root is in one of these states: it never ran, or it is over for good. */
const DELETABLE: ReadonlySet<State> = new Set<State>(['CREATED', 'FINISHED', 'REVOKED']);

/** The task vector's one class: a live task. */
const LIVE = 0;

/** The vector of tasks is indexed below 2^31 (trie.ts). */
const MAX_REGISTRATIONS = 2 ** 31 - 1;

const requireString = (v: unknown, field: string, pattern?: RegExp, form = 'a string'): string => {
  if (typeof v !== 'string' || (pattern && !pattern.test(v))) throw invalid(field, `must be ${form}`);
  return v;
};

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return false;
  }
  return true;
}

/** Bytes of an ex_data: the new one's are known already; any other is measured (rare: it is being replaced). */
const bytesOf = (v: Json | undefined, known: Json | undefined, knownBytes: number): number =>
  v === undefined ? 0 : v === known ? knownBytes : jsonTextBytes(v);

interface CheckedArgs {
  readonly version: string | undefined;
  readonly exData: Json | undefined;
  readonly data: Json | undefined;
  /** of exData's JSON text */
  readonly exDataBytes: number;
}

interface Move {
  readonly index: number;
  readonly from: NodeRecord;
  readonly to: NodeRecord;
  readonly ended: boolean;
}

export class Store {
  readonly clock: () => number;
  readonly rerunLimit: number;
  readonly limits: StoreLimits;
  private readonly newVersion: () => string;
  private readonly quotaOf: (projectId: string) => Quota;
  private readonly registry = new Registry();
  private readonly feed: ChangeFeed;
  private readonly taskLists = new TaskListIndex();
  /** live usage per project id */
  private readonly usage = new Map<string, ProjectUsage>();
  /** one class, LIVE: every task in the vector is counted, so removed ones leave nothing behind */
  private tasks: Trie<TaskSlot> = emptyTrie(0, 1);
  /** live tasks */
  private taskCount = 0;
  /** registration numbers handed out: each task's place in `tasks`, never reused */
  private registered = 0;
  /**
   * The highest numeric task id ever registered, deleted and archived tasks included: an assigned
   * id is one more, so no id is handed out twice. Checkpoints carry it (they hold live tasks only).
   */
  private topTaskId = 0;
  private removals = new Removals();
  private edit: Edit = {};
  private lastSnapshot: Snapshot | undefined;
  private seq = 0;
  private sink: ChangeSink | undefined;
  private held = false;

  constructor(options: StoreOptions = {}) {
    const rerunLimit = options.rerunLimit ?? 100;
    if (!Number.isSafeInteger(rerunLimit) || rerunLimit < 1) throw invalid('rerunLimit', 'must be a positive integer');
    this.clock = options.clock ?? Date.now;
    this.rerunLimit = rerunLimit;
    this.newVersion = options.newVersion ?? randomVersion;
    this.limits = storeLimits(options.limits);
    this.quotaOf = quotasOf(options.quotas);
    this.feed = new ChangeFeed(options.onListenerError ?? reportToStderr);
  }

  /** The state now, immutable. O(1): the same object until the next change. */
  snapshot(): Snapshot {
    if (!this.lastSnapshot) {
      this.lastSnapshot = new Snapshot(
        this.registry,
        this.tasks,
        this.taskCount,
        this.registered,
        this.registry.projects.length,
        this.removals,
        this.seq,
      );
      // From here on, nodes the snapshot holds are copied before they change, and a task id
      // removed from the index is recorded where the snapshot will look for it.
      this.edit = {};
      this.removals.seen = true;
    }
    return this.lastSnapshot;
  }

  /** The highest numeric task id ever registered, deleted and archived tasks included (kept across restarts). */
  get highestTaskId(): number {
    return this.topTaskId;
  }

  /** The seq of the last accepted change (0 before the first): the engine's cursor. */
  get cursor(): number {
    return this.seq;
  }

  /**
   * Resolves once the change with this seq, and every change before it, is durable under the
   * journal's mode; rejects with 3599999 when the journal failed to write it (it was then undone
   * in memory). Without a journal it resolves at once: memory is all there is.
   */
  whenDurable(cursor: number): Promise<void> {
    if (!Number.isSafeInteger(cursor) || cursor < 0 || cursor > this.seq) {
      return Promise.reject(invalid('cursor', `must be a seq from 0 to ${this.seq}`));
    }
    return this.sink ? this.sink.whenDurable(cursor) : Promise.resolve();
  }

  /** Resolves once everything accepted so far (projects included) is durable. */
  durable(): Promise<void> {
    return this.sink ? this.sink.durable() : Promise.resolve();
  }

  /** The journal's state, or undefined when the store is in memory only. */
  journalStatus(): JournalStatus | undefined {
    return this.sink?.status();
  }

  /** @internal A project's tasks by root state (task-list-index.ts), as of the latest change, for get_task_list; undefined before its first task. */
  taskListOf(projectId: string): ProjectTaskList | undefined {
    return this.taskLists.project(projectId);
  }

  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.feed.on(event, listener);
  }

  off<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.feed.off(event, listener);
  }

  createProject(input: ProjectInput): Project {
    if (typeof input !== 'object' || input === null) throw invalid('project', 'must be an object');
    const id = requireString(input.id, 'project.id', DIGITS_PATTERN, 'a string of 1..32 digits');
    const bizId =
      input.bk_biz_id === undefined
        ? null
        : requireString(input.bk_biz_id, 'project.bk_biz_id', DIGITS_PATTERN, 'a string of 1..32 digits');
    const name = requireString(input.name, 'project.name');
    const timeZone = requireString(input.time_zone ?? 'Asia/Shanghai', 'project.time_zone');
    if (!validTimeZone(timeZone)) throw invalid('project.time_zone', `${JSON.stringify(timeZone)} is not an IANA time zone`);
    const { projects, projectIndex, bizIndex } = this.registry;
    if (projectIndex.has(id)) throw invalid('project.id', `project ${id} already exists`);
    if (bizId !== null && bizIndex.has(bizId)) {
      throw invalid('project.bk_biz_id', `business ${bizId} is already bound to project ${projects[bizIndex.get(bizId)!].id}`);
    }
    this.sink?.admit();
    const project: Project = Object.freeze({ id, bk_biz_id: bizId, name, time_zone: timeZone });
    projectIndex.set(id, projects.length);
    if (bizId !== null) bizIndex.set(bizId, projects.length);
    projects.push(project);
    this.usage.set(id, new ProjectUsage(id, this.quotaOf(id)));
    this.lastSnapshot = undefined;
    this.sink?.project(project);
    return project;
  }

  /** A project's usage and quota now; undefined for an unknown project. */
  quota(projectId: string): ProjectQuota | undefined {
    const u = this.usage.get(projectId);
    if (u === undefined) return undefined;
    return { usage: { tasks: u.tasks, nodes: u.nodes, exDataBytes: u.exDataBytes, histories: u.histories }, quota: u.quota };
  }

  /**
   * Registers a task. Without an id, the task gets one plus the highest id ever registered
   * (never one a deleted task had). Refused (and nothing changes) when the input is bad, the id
   * is live, or the project's task or node quota has no room.
   */
  createTask(input: TaskInput): Task {
    if (typeof input !== 'object' || input === null) throw invalid('task', 'must be an object');
    const id = input.id === undefined ? this.nextTaskId() : requireString(input.id, 'task.id');
    if (!isTaskId(id)) throw invalid('task.id', `must be a positive integer up to ${MAX_TASK_ID}, in digits without leading zeros`);
    const projectId = requireString(input.project_id, 'task.project_id', DIGITS_PATTERN, 'a string of 1..32 digits');
    const name = requireString(input.name, 'task.name');
    if (this.registry.taskIndex.has(id)) throw invalid('task.id', `task ${id} already exists`);
    const p = this.registry.projectIndex.get(projectId);
    if (p === undefined) throw unknownProject(projectId);
    const definition = compileDefinition(id, input.pipeline, this.limits);
    const usage = this.usage.get(projectId)!;
    usage.checkTask(id, definition.size);
    if (this.registered >= MAX_REGISTRATIONS) throw registrationsExhausted(MAX_REGISTRATIONS);
    this.sink?.admit();

    const now = this.clock();
    const task: Task = Object.freeze({ id, project_id: projectId, name, created_at: now });
    this.register(task, definition);
    const created = Object.freeze({ seq: ++this.seq, taskId: id, projectId, at: now });
    this.sink?.task(created, task, definition);
    if (this.feed.listening('task')) this.feed.publish('task', created);
    return task;
  }

  /**
   * Puts a task in the vector, the indexes and its project's usage: a new one (createTask,
   * checked already) or one the journal replays (checked when it was accepted).
   */
  private register(task: Task, definition: PipelineDefinition): TaskSlot {
    const p = this.registry.projectIndex.get(task.project_id)!;
    const usage = this.usage.get(task.project_id)!;
    const slot = slotUnder(
      {
        task,
        project: this.registry.projects[p],
        definition,
        initial: initialRecord(task.created_at),
        records: emptyTrie(definition.size, ROLLUP_CLASSES),
        histories: emptyTrie(definition.size),
        usage: new TaskUsage(usage),
        edit: this.edit,
      },
      this.edit,
    );
    const number = this.registered++;
    this.registry.taskIndex.set(task.id, number);
    this.taskLists.registered(task.id, task.project_id, task.name);
    this.tasks = set(this.tasks, number, slot, this.edit, NO_CLASS, LIVE);
    this.taskCount++;
    this.topTaskId = Math.max(this.topTaskId, Number(task.id));
    usage.tasks++;
    usage.nodes += definition.size;
    this.lastSnapshot = undefined;
    return slot;
  }

  private nextTaskId(): string {
    if (this.topTaskId >= MAX_TASK_ID) throw invalid('task.id', `no id is left to assign: task ${MAX_TASK_ID} has been registered`);
    return String(this.topTaskId + 1);
  }

  /**
   * Deletes a task whose root never started (CREATED) or is over for good (FINISHED, REVOKED),
   * and gives back what it held to its project's quotas. Snapshots taken before still see it;
   * its id may be registered again (an assigned id never is). Emits 'task_deleted'.
   */
  deleteTask(taskId: string): TaskDeleted {
    requireString(taskId, 'taskId');
    const number = this.registry.taskIndex.get(taskId);
    if (number === undefined) throw unknownTask(taskId);
    const slot = get(this.tasks, number)!;
    const root = recordAt(slot, 0);
    if (!DELETABLE.has(root.state)) throw undeletable(taskId, slot.definition.ids[0], root.state);
    this.sink?.admit();
    const at = this.clock();
    this.remove(number, slot);
    const deleted: TaskDeleted = Object.freeze({ seq: ++this.seq, taskId, projectId: slot.task.project_id, at });
    this.sink?.deleted(deleted);
    if (this.feed.listening('task_deleted')) this.feed.publish('task_deleted', deleted);
    return deleted;
  }

  /**
   * Takes a task out of memory (deleted, or archived by the journal's retention) and gives back
   * what it held to its project's usage. Snapshots taken before still see it.
   */
  private remove(number: number, slot: TaskSlot): void {
    const taskId = slot.task.id;
    if (this.removals.seen) {
      const next = new Removals();
      this.removals.next = next;
      this.removals = next;
    }
    if (!this.removals.removed.has(taskId)) this.removals.removed.set(taskId, number);
    this.registry.taskIndex.delete(taskId);
    this.tasks = unset(this.tasks, number, this.edit, LIVE);
    this.taskLists.removed(taskId);
    this.taskCount--;
    const { usage } = slot;
    usage.project.tasks--;
    usage.project.nodes -= slot.definition.size;
    usage.charge(-usage.histories, -usage.exDataBytes);
    this.lastSnapshot = undefined;
  }

  /**
   * @internal The journal's hold on this store: it replays what was journaled, then connects the
   * sink that every accepted change goes to from then on (and that emits `node_durable`). Only the
   * journal's code uses it; a store has at most one.
   */
  attachJournal(): JournalHold {
    if (this.held) throw new Error('a journal is already attached to this store');
    this.held = true;
    const store = this;
    const internals: StoreInternals = {
      registry: this.registry,
      get tasks() {
        return store.tasks;
      },
      get seq() {
        return store.seq;
      },
      set seq(n) {
        store.seq = n;
      },
      get highestTaskId() {
        return store.topTaskId;
      },
      set highestTaskId(n) {
        store.topTaskId = Math.max(store.topTaskId, n);
      },
      connect: (sink) => {
        store.sink = sink;
      },
      snapshot: () => store.snapshot(),
      addProject: (project) => {
        const { projects, projectIndex, bizIndex } = store.registry;
        projectIndex.set(project.id, projects.length);
        if (project.bk_biz_id !== null) bizIndex.set(project.bk_biz_id, projects.length);
        projects.push(project);
        store.usage.set(project.id, new ProjectUsage(project.id, store.quotaOf(project.id)));
        store.lastSnapshot = undefined;
      },
      register: (task, definition) => store.register(task, definition),
      write: (number, moves) => store.replayMoves(number, moves),
      fillHistory: (number, index, history) => store.fillHistory(number, index, history),
      remove: (number) => store.remove(number, get(store.tasks, number)!),
      mark: () => ({
        tasks: store.tasks,
        registered: store.registered,
        taskCount: store.taskCount,
        seq: store.seq,
        projectCount: store.registry.projects.length,
        highestTaskId: store.topTaskId,
      }),
      restore: (mark) => store.restore(mark),
      publish: (event, payload) => store.feed.publish(event, payload),
      listening: (event) => store.feed.listening(event),
    };
    return new JournalHold(internals, this.rerunLimit);
  }

  /**
   * Writes moves the journal recorded (replay): the same accounting as an accepted operation
   * (roll-up classes, the root-state index, capped histories, quota usage), without deciding.
   */
  private replayMoves(number: number, moves: readonly ReplayedMove[]): void {
    const slot = get(this.tasks, number)!;
    let bytes = 0;
    for (const m of moves) {
      if (!m.ended && m.to.ex_data !== m.from.ex_data) bytes += bytesOf(m.to.ex_data, undefined, 0) - bytesOf(m.from.ex_data, undefined, 0);
    }
    this.write(number, slot, moves, bytes);
  }

  /** A checkpoint's history of one node, put back as it was written (its dropped count too). */
  private fillHistory(number: number, index: number, history: History): void {
    const slot = get(this.tasks, number)!;
    const target = slot.edit === this.edit ? slot : slotUnder(slot, this.edit);
    const before = get(target.histories, index);
    if (before !== undefined) throw new Error(`node ${index} of task ${slot.task.id} has a history already`);
    target.histories = set(target.histories, index, history, this.edit);
    slot.usage.charge(history.count, historyExDataBytes(history));
    if (target !== slot) this.tasks = set(this.tasks, number, target, this.edit);
    this.lastSnapshot = undefined;
  }

  /**
   * Puts the store back at a mark (the journal could not write what came after). The vector is
   * persistent, so it is the mark's; what main's store keeps beside it that only grows or is
   * counted (the id index, the root-state index, quota usage) is rebuilt from it: O(tasks + the
   * nodes they hold), on a path taken only when storage fails.
   */
  private restore(mark: StoreMark): void {
    const { registry } = this;
    for (const p of registry.projects.splice(mark.projectCount)) {
      registry.projectIndex.delete(p.id);
      if (p.bk_biz_id !== null) registry.bizIndex.delete(p.bk_biz_id);
      this.usage.delete(p.id);
    }
    this.tasks = mark.tasks;
    this.registered = mark.registered;
    this.taskCount = mark.taskCount;
    this.seq = mark.seq;
    this.topTaskId = mark.highestTaskId;
    // A snapshot taken before may hold the current removals link: later removals start a new one.
    this.removals.seen = true;
    registry.taskIndex.clear();
    this.taskLists.clear();
    for (const u of this.usage.values()) u.tasks = u.nodes = u.histories = u.exDataBytes = 0;
    visitClasses(
      this.tasks,
      0,
      this.registered,
      [LIVE],
      () => true,
      (slot, number) => {
        const { task, definition } = slot;
        registry.taskIndex.set(task.id, number);
        this.taskLists.registered(task.id, task.project_id, task.name);
        const root = recordAt(slot, 0).state;
        if (root !== 'CREATED') this.taskLists.rootMoved(task.id, root);
        const project = slot.usage.project;
        project.tasks++;
        project.nodes += definition.size;
        let histories = 0;
        let bytes = 0;
        forEachInRange(slot.records, 0, definition.size, (r) => {
          if (r?.ex_data !== undefined) bytes += jsonTextBytes(r.ex_data);
        });
        forEachInRange(slot.histories, 0, definition.size, (h) => {
          if (h === undefined) return;
          histories += h.count;
          bytes += historyExDataBytes(h);
        });
        slot.usage.histories = 0;
        slot.usage.exDataBytes = 0;
        slot.usage.charge(histories, bytes);
      },
    );
    this.lastSnapshot = undefined;
  }

  start(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'start', args);
  }
  finish(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'finish', args);
  }
  fail(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'fail', args);
  }
  forcedFail(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'forced_fail', args);
  }
  pause(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'pause', args);
  }
  resume(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'resume', args);
  }
  retry(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'retry', args);
  }
  skip(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'skip', args);
  }
  reenter(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'reenter', args);
  }
  revoke(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'revoke', args);
  }
  callback(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] {
    return this.apply(taskId, nodeId, 'callback', args);
  }

  /**
   * Applies an operation by name. Returns one change per node it changed (a revoke also changes
   * the root's active descendants). A refusal throws a PipestateError and changes nothing.
   */
  apply(taskId: string, nodeId: string, operation: AppliedOperation | 'forcedFail', args?: OperationArgs): NodeChange[] {
    requireString(taskId, 'taskId');
    requireString(nodeId, 'nodeId');
    // a Map answers undefined for any key it does not hold, strings or not
    const op = OPERATION_NAMES.get(operation);
    if (op === undefined) throw invalid('operation', `must be one of ${[...OPERATION_NAMES.keys()].join(', ')}`);
    const { version, exData, data, exDataBytes } = this.checkArgs(op, args);
    const number = this.registry.taskIndex.get(taskId);
    if (number === undefined) throw unknownTask(taskId);
    const slot = get(this.tasks, number)!;
    const index = slot.definition.indexOf(nodeId);
    if (index < 0) throw unknownNode(taskId, nodeId);

    const now = this.clock();
    const first = this.move(slot, index, op, op, now, exData, version);
    const moves = [first];
    if (op === 'revoke') {
      visitClasses(slot.records, index + 1, slot.definition.end[index], ACTIVE_CLASSES, isActive, (_, j) => {
        moves.push(this.move(slot, j, 'revoke_cascade', op, now, undefined, undefined));
      });
    }
    // Only the asked operation can end an attempt or write ex_data (a revoke's cascade does neither).
    const bytes = first.ended || first.to.ex_data !== first.from.ex_data ? this.admit(slot, first, op, exData, exDataBytes) : 0;
    this.sink?.admit();
    return this.commit(number, slot, moves, op, now, data, bytes);
  }

  /**
   * What a move adds to its project's usage, refused (3542900) over a quota before anything is
   * written: an attempt it ends (none when the node's history is at its cap: the oldest goes),
   * and the bytes of ex_data it writes (an ended attempt keeps its ex_data: it moves to the
   * history). Returns the bytes; commit counts the attempt as it pushes it.
   */
  private admit(slot: TaskSlot, m: Move, op: AppliedOperation, exData: Json | undefined, exDataBytes: number): number {
    const project = slot.usage.project;
    const nodeId = slot.definition.ids[m.index];
    if (m.ended) {
      if ((get(slot.histories, m.index)?.count ?? 0) < this.limits.maxNodeHistories) project.checkAttempt(op, slot.task.id, nodeId);
      return 0;
    }
    const bytes = bytesOf(m.to.ex_data, exData, exDataBytes) - bytesOf(m.from.ex_data, exData, exDataBytes);
    project.checkExData(op, slot.task.id, nodeId, bytes);
    return bytes;
  }

  /**
   * Checks an operation on node i against the table, then against the caller's version, and only
   * then computes its new record (an effect may draw a version: a refusal must not). Throws on
   * refusal.
   */
  private move(
    slot: TaskSlot,
    i: number,
    op: MachineOperation,
    asked: AppliedOperation,
    now: number,
    exData: Json | undefined,
    version: string | undefined,
  ): Move {
    const def = slot.definition;
    const from = recordAt(slot, i);
    let anc = ANC_RUNNING;
    let blocker = -1;
    for (let p = def.parent[i]; p >= 0 && anc !== ANC_ARCHIVED; p = def.parent[p]) {
      const s = recordAt(slot, p).state;
      if (s === 'RUNNING') continue;
      if (s === 'SUSPENDED' && anc === ANC_SUSPENDED) continue;
      anc = s === 'SUSPENDED' ? ANC_SUSPENDED : ANC_ARCHIVED;
      blocker = p;
    }
    const busy = op === 'finish' ? firstActiveDescendant(slot, i) : -1;
    const ctx = def.traits[i] | (from.loop >= this.rerunLimit ? CONTEXT_AT_RERUN_LIMIT : 0);
    const state = STATE_CODE.get(from.state)!;
    const opCode = OP_CODE.get(op)!;
    const next = nextStateCode(ctx, anc, busy >= 0 ? 1 : 0, state, opCode);
    if (next === REFUSED) {
      const codes = { ctx, anc, busy: busy >= 0 ? 1 : 0, state, op: opCode };
      const at = (j: number) => ({ id: def.ids[j], state: recordAt(slot, j).state });
      throw refusal(
        {
          taskId: slot.task.id,
          nodeId: def.ids[i],
          kind: kindOf(def, i),
          state: from.state,
          blocker: blocker >= 0 ? at(blocker) : undefined,
          activeDescendant: busy >= 0 ? at(busy) : undefined,
        },
        // a revoke's cascade is refused as the revoke it is part of
        asked,
        codes,
      );
    }
    if (version !== undefined && version !== from.version) {
      throw refused(
        op,
        slot.task.id,
        def.ids[i],
        from.state,
        `version ${JSON.stringify(version)} is not the node's version ${JSON.stringify(from.version)}`,
      );
    }
    const toState = STATES[next];
    const to = EFFECTS[op](from, { to: toState, now, newVersion: this.newVersion, rerunLimit: this.rerunLimit, exData });
    return { index: i, from, to, ended: endsAttempt(op, toState) };
  }

  /** Writes the moves, and the usage they add: `bytes` of ex_data (admitted already) and the attempts they end. */
  private commit(
    number: number,
    slot: TaskSlot,
    moves: Move[],
    op: AppliedOperation,
    now: number,
    data: Json | undefined,
    bytes: number,
  ): NodeChange[] {
    this.write(number, slot, moves, bytes);
    const changes: NodeChange[] = [];
    for (const m of moves) {
      const change: NodeChange = {
        seq: ++this.seq,
        taskId: slot.task.id,
        nodeId: slot.definition.ids[m.index],
        operation: op,
        from: m.from.state,
        to: m.to.state,
        at: now,
        record: m.to,
      };
      // Two literal shapes, not a conditional spread (which sends V8 down its slow clone path).
      changes.push(Object.freeze(data === undefined ? change : { ...change, data }));
    }
    this.sink?.nodes(changes, moves[0].ended);
    if (this.feed.listening('node')) for (const c of changes) this.feed.publish('node', c);
    // Without a journal a change is as durable as it will get once it is in memory.
    if (this.sink === undefined && this.feed.listening('node_durable')) for (const c of changes) this.feed.publish('node_durable', c);
    return changes;
  }

  /** Writes moves into a task, with what they add to its usage: `bytes` of ex_data and the attempts they end. */
  private write(number: number, slot: TaskSlot, moves: readonly Move[], bytes: number): void {
    let histories = 0;
    const edit = this.edit;
    const target = slot.edit === edit ? slot : slotUnder(slot, edit);
    const def = slot.definition;
    for (const m of moves) {
      target.records = set(target.records, m.index, m.to, edit, recordClass(def, m.index, m.from), recordClass(def, m.index, m.to));
      if (m.index === 0 && m.from.state !== m.to.state) this.taskLists.rootMoved(slot.task.id, m.to.state);
      if (m.ended) {
        const cap = this.limits.maxNodeHistories;
        const history = get(target.histories, m.index);
        const dropped = droppedByPush(history, cap);
        if (dropped === undefined) histories++;
        else if (dropped.ex_data !== undefined) bytes -= jsonTextBytes(dropped.ex_data);
        target.histories = set(target.histories, m.index, pushAttempt(history, m.from, cap), edit);
      }
    }
    if (histories !== 0 || bytes !== 0) slot.usage.charge(histories, bytes);
    if (target !== slot) this.tasks = set(this.tasks, number, target, edit);
    this.lastSnapshot = undefined;
  }

  private checkArgs(op: AppliedOperation, args: OperationArgs | undefined): CheckedArgs {
    if (args === undefined || args === null) return NO_ARGS;
    if (typeof args !== 'object' || Array.isArray(args)) throw invalid('args', 'must be an object');
    const allowed = EXTRA_ARGS[op];
    for (const key of Object.keys(args)) {
      if (key !== 'version' && !allowed.includes(key as 'ex_data')) {
        throw invalid(`args.${key}`, `${op} takes ${['version', ...allowed].join(', ')}`);
      }
    }
    const version = args.version === undefined ? undefined : requireString(args.version, 'args.version');
    const exData = args.ex_data === undefined ? undefined : toFrozenJson(args.ex_data, 'args.ex_data');
    const data = args.data === undefined ? undefined : toFrozenJson(args.data, 'args.data');
    const exDataBytes = exData === undefined ? 0 : jsonTextBytes(exData);
    const max = this.limits.maxNodeExDataBytes;
    if (exDataBytes > max) {
      throw invalid(
        'ex_data',
        `${exDataBytes === Number.POSITIVE_INFINITY ? 'is too large to serialize' : `is ${exDataBytes} bytes of JSON`}, ` +
          `over the limit of ${max} bytes (limits.maxNodeExDataBytes)`,
      );
    }
    return { version, exData, data, exDataBytes };
  }
}
