/**
 * The store: the one place state changes. An operation is checked against the lifecycle table,
 * its effect computed by a pure function, and the result committed by copying one record and
 * one trie path (or none, when no snapshot has been taken since the path was last copied).
 * Events go out after the commit.
 */
import {
  ACTIVE, CONTEXT_AT_RERUN_LIMIT, EFFECTS, MACHINE_OPERATIONS, STATES, endsAttempt, initialRecord, nextStateCode,
  type Json, type MachineOperation, type NodeRecord, type Operation, type State,
} from '../lifecycle/index.js';
import {
  DEFAULT_LIMITS, DIGITS_PATTERN, ERROR_CODES, PipestateError, compileDefinition, invalid, kindOf, refused, toFrozenJson,
  unknownNode, unknownProject, unknownTask, type DefinitionLimits, type Project, type ProjectInput,
  type Task, type TaskInput,
} from '../model/index.js';
import {
  ChangeFeed, reportToStderr, type EngineEventName, type EngineListener, type ListenerErrorHandler, type NodeChange, type TaskDeleted,
} from './events.js';
import { JournalHold } from './journal/hold.js';
import type { ChangeSink, JournalStatus, StoreInternals } from './journal/sink.js';
import { refusal } from './refusal.js';
import { Registry } from './registry.js';
import { Snapshot } from './snapshot.js';
import { firstActiveDescendant, isActive, recordAt, slotUnder, type History, type TaskSlot } from './task-slot.js';
import { emptyTrie, get, set, visitWeighted, type Edit, type Trie } from './trie.js';
import { randomVersion } from './version.js';

export interface StoreOptions {
  /** ms since the epoch; default Date.now */
  readonly clock?: () => number;
  /** how many times a node may be entered (SPEC §2); default 100 */
  readonly rerunLimit?: number;
  /** attempt versions; default random 32-hex */
  readonly newVersion?: () => string;
  readonly limits?: Partial<DefinitionLimits>;
  /** called when an event listener throws; default: written to stderr */
  readonly onListenerError?: ListenerErrorHandler;
}

export interface OperationArgs {
  /** refuse unless the node is at this version */
  readonly version?: string;
  /** fail, forced_fail: the error data */
  readonly ex_data?: Json;
  /** callback: what the orchestrator should receive */
  readonly data?: Json;
}

/** Which arguments each operation takes besides `version`. */
const EXTRA_ARGS: Readonly<Record<Operation, readonly ('ex_data' | 'data')[]>> = {
  start: [], finish: [], fail: ['ex_data'], forced_fail: ['ex_data'], pause: [], resume: [],
  retry: [], skip: [], reenter: [], revoke: [], callback: ['data'],
};

/** The method names (SPEC §5) and the operation names (SPEC §2) both name an operation. */
const OPERATION_NAMES: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  ...(Object.keys(EXTRA_ARGS) as Operation[]).map((op) => [op, op] as const),
  ['forcedFail', 'forced_fail'],
]);

const NO_ARGS = Object.freeze({});
const OP_CODE = new Map<MachineOperation, number>(MACHINE_OPERATIONS.map((op, i) => [op, i]));
const STATE_CODE = new Map<State, number>(STATES.map((s, i) => [s, i]));
const ANC_RUNNING = 0;
const ANC_SUSPENDED = 1;
const ANC_ARCHIVED = 2;
/** Root states in which a task may be deleted: done for good, or never started (DECISIONS 1). */
const DELETABLE: ReadonlySet<State> = new Set<State>(['FINISHED', 'REVOKED', 'CREATED']);

const requireString = (v: unknown, field: string, pattern?: RegExp, form = 'a string'): string => {
  if (typeof v !== 'string' || (pattern && !pattern.test(v))) throw invalid(field, `must be ${form}`);
  return v;
};

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
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
  private readonly newVersion: () => string;
  private readonly limits: DefinitionLimits;
  private readonly registry = new Registry();
  private readonly feed: ChangeFeed;
  private tasks: Trie<TaskSlot> = emptyTrie(0);
  private taskCount = 0;
  private liveTasks = 0;
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
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.feed = new ChangeFeed(options.onListenerError ?? reportToStderr);
  }

  /** The state now, immutable. O(1): the same object until the next change. */
  snapshot(): Snapshot {
    if (!this.lastSnapshot) {
      this.lastSnapshot = new Snapshot(this.registry, this.tasks, this.taskCount, this.registry.projects.length, this.liveTasks);
      // From here on, nodes the snapshot holds are copied before they change.
      this.edit = {};
    }
    return this.lastSnapshot;
  }

  /** The highest numeric task id ever registered, deleted and archived tasks included (kept across restarts). */
  get highestTaskId(): number {
    return this.registry.highestTaskId;
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

  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.feed.on(event, listener);
  }

  off<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.feed.off(event, listener);
  }

  createProject(input: ProjectInput): Project {
    if (typeof input !== 'object' || input === null) throw invalid('project', 'must be an object');
    const id = requireString(input.id, 'project.id', DIGITS_PATTERN, 'a string of 1..32 digits');
    const bizId = input.bk_biz_id === undefined ? null
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
    this.lastSnapshot = undefined;
    this.sink?.project(project);
    return project;
  }

  createTask(input: TaskInput): Task {
    if (typeof input !== 'object' || input === null) throw invalid('task', 'must be an object');
    const id = requireString(input.id, 'task.id', DIGITS_PATTERN, 'a string of 1..32 digits');
    const projectId = requireString(input.project_id, 'task.project_id', DIGITS_PATTERN, 'a string of 1..32 digits');
    const name = requireString(input.name, 'task.name');
    if (this.registry.taskIndex.has(id)) throw invalid('task.id', `task ${id} already exists`);
    const p = this.registry.projectIndex.get(projectId);
    if (p === undefined) throw unknownProject(projectId);
    const definition = compileDefinition(id, input.pipeline, this.limits);
    this.sink?.admit();
    const now = this.clock();
    const task: Task = Object.freeze({ id, project_id: projectId, name, created_at: now });
    const slot = slotUnder({
      task, project: this.registry.projects[p], definition, initial: initialRecord(now),
      records: emptyTrie(definition.size), histories: emptyTrie(definition.size), edit: this.edit,
    }, this.edit);
    this.registry.taskIndex.set(id, this.taskCount);
    this.registry.noteTaskId(id);
    this.tasks = set(this.tasks, this.taskCount, slot, this.edit);
    this.taskCount++;
    this.liveTasks++;
    this.lastSnapshot = undefined;
    const created = Object.freeze({ seq: ++this.seq, taskId: id, projectId, at: now });
    this.sink?.task(created, task, definition);
    if (this.feed.listening('task')) this.feed.publish('task', created);
    return task;
  }

  /**
   * Removes a task whose root is FINISHED or REVOKED (done for good) or still CREATED (never
   * started); any other root state is refused with 3545000. Snapshots taken before still see it.
   */
  deleteTask(taskId: string): TaskDeleted {
    requireString(taskId, 'taskId');
    const number = this.registry.taskIndex.get(taskId);
    const slot = number === undefined ? undefined : get(this.tasks, number);
    if (slot === undefined) throw unknownTask(taskId);
    const rootState = recordAt(slot, 0).state;
    if (!DELETABLE.has(rootState)) {
      throw new PipestateError(ERROR_CODES.refused,
        `cannot delete task ${taskId}: its root is ${rootState}; only a task whose root is FINISHED, REVOKED or CREATED can be deleted`);
    }
    this.sink?.admit();
    const at = this.clock();
    this.removeTask(number!);
    const deleted: TaskDeleted = Object.freeze({ seq: ++this.seq, taskId, projectId: slot.task.project_id, at });
    this.sink?.deleted(deleted);
    if (this.feed.listening('task_deleted')) this.feed.publish('task_deleted', deleted);
    return deleted;
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
      get tasks() { return store.tasks; },
      set tasks(t) { store.tasks = t; },
      get taskCount() { return store.taskCount; },
      set taskCount(n) { store.taskCount = n; },
      get liveTasks() { return store.liveTasks; },
      set liveTasks(n) { store.liveTasks = n; },
      get seq() { return store.seq; },
      set seq(n) { store.seq = n; },
      get edit() { return store.edit; },
      connect: (sink) => { store.sink = sink; },
      snapshot: () => store.snapshot(),
      changed: () => { store.lastSnapshot = undefined; },
      removeTask: (number) => store.removeTask(number),
      publish: (event, payload) => store.feed.publish(event, payload),
      listening: (event) => store.feed.listening(event),
    };
    return new JournalHold(internals, this.rerunLimit);
  }

  /** Frees a task's slot; its id stays in the index so that older snapshots still find it. */
  private removeTask(number: number): void {
    this.tasks = set(this.tasks, number, undefined as unknown as TaskSlot, this.edit);
    this.liveTasks--;
    this.lastSnapshot = undefined;
  }

  start(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'start', args); }
  finish(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'finish', args); }
  fail(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'fail', args); }
  forcedFail(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'forced_fail', args); }
  pause(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'pause', args); }
  resume(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'resume', args); }
  retry(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'retry', args); }
  skip(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'skip', args); }
  reenter(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'reenter', args); }
  revoke(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'revoke', args); }
  callback(taskId: string, nodeId: string, args?: OperationArgs): NodeChange[] { return this.apply(taskId, nodeId, 'callback', args); }

  /**
   * Applies an operation by name. Returns one change per node it changed (a revoke also changes
   * the root's active descendants). A refusal throws a PipestateError and changes nothing.
   */
  apply(taskId: string, nodeId: string, operation: Operation | 'forcedFail', args?: OperationArgs): NodeChange[] {
    requireString(taskId, 'taskId');
    requireString(nodeId, 'nodeId');
    const op = typeof operation === 'string' ? OPERATION_NAMES.get(operation) : undefined;
    if (op === undefined) throw invalid('operation', `must be one of ${[...OPERATION_NAMES.keys()].join(', ')}`);
    const { version, exData, data } = this.checkArgs(op, args);
    const number = this.registry.taskIndex.get(taskId);
    const slot = number === undefined ? undefined : get(this.tasks, number);
    if (slot === undefined) throw unknownTask(taskId);
    const index = slot.definition.indexOf(nodeId);
    if (index < 0) throw unknownNode(taskId, nodeId);

    const now = this.clock();
    const moves = [this.move(slot, index, op, op, now, exData, version)];
    if (op === 'revoke') {
      visitWeighted(slot.records, index + 1, slot.definition.end[index], isActive, (_, j) => {
        moves.push(this.move(slot, j, 'revoke_cascade', op, now, undefined, undefined));
      });
    }
    return this.commit(number!, slot, moves, op, now, data);
  }

  /**
   * Checks an operation on node i against the table, then against the caller's version, and only
   * then computes its new record (an effect may draw a version: a refusal must not). Throws on
   * refusal.
   */
  private move(
    slot: TaskSlot, i: number, op: MachineOperation, asked: Operation, now: number,
    exData: Json | undefined, version: string | undefined,
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
    if (next < 0) {
      const codes = { ctx, anc, busy: busy >= 0 ? 1 : 0, state, op: opCode };
      const at = (j: number) => ({ id: def.ids[j], state: recordAt(slot, j).state });
      throw refusal({
        taskId: slot.task.id, nodeId: def.ids[i], kind: kindOf(def, i), state: from.state,
        blocker: blocker >= 0 ? at(blocker) : undefined, activeDescendant: busy >= 0 ? at(busy) : undefined,
      }, asked === 'revoke' ? 'revoke' : op, codes);
    }
    if (version !== undefined && version !== from.version) {
      throw refused(op, slot.task.id, def.ids[i], from.state,
        `version ${JSON.stringify(version)} is not the node's version ${JSON.stringify(from.version)}`);
    }
    const toState = STATES[next];
    const to = EFFECTS[op](from, { to: toState, now, newVersion: this.newVersion, rerunLimit: this.rerunLimit, exData });
    return { index: i, from, to, ended: endsAttempt(op, toState) };
  }

  private commit(number: number, slot: TaskSlot, moves: Move[], op: Operation, now: number, data: Json | undefined): NodeChange[] {
    this.sink?.admit();
    const edit = this.edit;
    const target = slot.edit === edit ? slot : slotUnder(slot, edit);
    for (const m of moves) {
      const delta = (ACTIVE.has(m.to.state) ? 1 : 0) - (ACTIVE.has(m.from.state) ? 1 : 0);
      target.records = set(target.records, m.index, m.to, edit, delta);
      if (m.ended) {
        const history: History = { attempt: m.from, previous: get(target.histories, m.index) };
        target.histories = set(target.histories, m.index, history, edit);
      }
    }
    if (target !== slot) this.tasks = set(this.tasks, number, target, edit);
    this.lastSnapshot = undefined;

    const changes: NodeChange[] = [];
    for (const m of moves) {
      const change: NodeChange = {
        seq: ++this.seq, taskId: slot.task.id, nodeId: slot.definition.ids[m.index], operation: op,
        from: m.from.state, to: m.to.state, at: now, record: m.to,
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

  private checkArgs(op: Operation, args: OperationArgs | undefined): { version?: string; exData?: Json; data?: Json } {
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
    return { version, exData, data };
  }
}

