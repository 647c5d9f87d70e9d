/**
 * The engine for a deployment of several instances on one PostgreSQL (issue 11). Each instance
 * keeps the whole state in memory, as a follower of the shared journal, so queries cost what they
 * cost in process; commands go through the journal's command path (a task lock, the task's latest
 * state, the in-process decision, a commit) and answer once this instance has applied them, with
 * their global cursor.
 *
 * Read your writes anywhere: every command answers with its `cursor`; a query that names
 * `min_cursor` (a request field; over HTTP also the `X-Pipestate-Min-Cursor` header) waits until
 * this instance has applied that cursor, at most `reflectMs` (default 1 s), then answers, or
 * refuses with 3599999 saying so: never an older state.
 *
 * Commands are asynchronous here (they are in-process synchronous on Engine): a command cannot be
 * decided before the database says what the task's latest state is.
 */
import type { Operation } from '../lifecycle/index.js';
import { invalid, type Project, type ProjectInput, type Task, type TaskInput } from '../model/index.js';
import type { NodeDetail, NodeStatus, TaskStatusEntry } from '../query/index.js';
import type { EngineEventName, EngineListener, NodeChange, OperationArgs, Snapshot } from '../store/index.js';
import { ChangeFeed, reportToStderr, type TaskDeleted } from '../store/events.js';
import {
  DEFAULT_CHECKPOINT,
  DEFAULT_RETENTION,
  realTimers,
  type CheckpointOptions,
  type RetentionOptions,
  type SweepReport,
  type Timers,
} from '../store/journal/index.js';
import type { JournalEntry } from '../store/journal/entries.js';
import { PgJournal } from '../store/journal/postgres/pg-journal.js';
import { DEFAULT_COMMANDS, type CommandTarget } from '../store/journal/shared/commands.js';
import { DEFAULT_FOLLOWER, type FollowerOptions } from '../store/journal/shared/follower.js';
import type { SharedCheckpoint } from '../store/journal/shared/port.js';
import { SharedJournal, type BootReport, type SharedStatus } from '../store/journal/shared/shared-journal.js';
import type { OperationResult } from './commands.js';
import { overriding } from './delegate.js';
import { StoredQueries } from './durable-engine.js';
import { Engine, type EngineOptions } from './engine.js';
import { fromError } from './envelope.js';
import type { EnginePort } from './http/port.js';
import type { Envelope, RequestContext } from './types.js';

/** A task to register: without `id`, one is drawn from the database (unique across instances). */
export type NewTaskInput = Omit<TaskInput, 'id'> & { readonly id?: string };

export interface SharedEngineOptions extends EngineOptions {
  /** postgres://user:password@host:port/database */
  readonly databaseUrl: string;
  /** the schema holding pipestate's tables; default "pipestate" */
  readonly schema?: string;
  /** connections per instance; default 10 */
  readonly poolSize?: number;
  /**
   * true (default): a command is acknowledged once PostgreSQL flushed its commit to disk; false:
   * once committed in PostgreSQL's memory (a database server crash can lose the last ~600 ms of
   * acknowledged commands). See docs/instances.md.
   */
  readonly synchronousCommit?: boolean;
  /** ms a query naming `min_cursor` waits for this instance to apply it; default 1,000 */
  readonly reflectMs?: number;
  /** ms a command waits for this instance to apply its task's latest change (and its own); default 5,000 */
  readonly catchUpMs?: number;
  /**
   * Group commit (default true): commands on different tasks that arrive while the previous group
   * commits share one transaction and one flush. False: one transaction per command.
   */
  readonly groupCommit?: boolean;
  readonly follower?: Partial<FollowerOptions>;
  readonly checkpoint?: Partial<CheckpointOptions>;
  readonly retention?: Partial<RetentionOptions>;
  /** ms between maintenance rounds of the instance holding the lease; default 1,000 */
  readonly maintenanceMs?: number;
  /** polls, retries, waits; tests inject manual timers (`timers` is the policy scheduler's) */
  readonly journalTimers?: Timers;
  /** background events (the database lost and back, maintenance failures); default stderr */
  readonly log?: (message: string, error?: unknown) => void;
}

/** The commands of the HTTP API, and which task each one locks. */
const COMMAND_ROUTES: ReadonlySet<string> = new Set(['create_task', 'node_event', 'operate_task', 'operate_node', 'delete_task']);

const DIGITS = /^[0-9]{1,32}$/;

/** A task id as a request may carry it (digits, or a JSON number), or undefined. */
function taskIdOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return typeof v === 'string' && DIGITS.test(v) ? v : undefined;
}

/** `min_cursor` of a request: absent, or a whole number. */
export function minCursorOf(request: unknown): number | undefined {
  if (typeof request !== 'object' || request === null || !Object.hasOwn(request, 'min_cursor')) return undefined;
  const v = (request as Record<string, unknown>).min_cursor;
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,15}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw invalid('min_cursor', 'must be a cursor: a whole number a command answered with');
  return n;
}

/** The seq of the last change among applied entries. */
function lastSeq(entries: readonly JournalEntry[]): number | undefined {
  for (let k = entries.length - 1; k >= 0; k--) {
    const e = entries[k];
    if (e.kind === 'nodes') return e.changes[e.changes.length - 1].seq;
    if (e.kind === 'task') return e.created.seq;
    if (e.kind === 'deleted') return e.deleted.seq;
  }
  return undefined;
}

function only<K extends JournalEntry['kind']>(entries: readonly JournalEntry[], kind: K): Extract<JournalEntry, { kind: K }> {
  const e = entries.find((x) => x.kind === kind);
  if (e === undefined) throw new Error(`the command was applied without a ${kind} entry`);
  return e as Extract<JournalEntry, { kind: K }>;
}

export class SharedEngine {
  private readonly feed: ChangeFeed;
  private readonly reflectMs: number;
  private readonly catchUpMs: number;
  /** the three queries, answering archived tasks (retention) from the database too */
  private readonly stored: StoredQueries;

  private constructor(
    /** @internal this instance's working set: reads only; changes come from the journal */
    readonly local: Engine,
    private readonly journal: SharedJournal,
    feed: ChangeFeed,
    options: SharedEngineOptions,
  ) {
    this.feed = feed;
    this.reflectMs = options.reflectMs ?? 1_000;
    this.catchUpMs = options.catchUpMs ?? DEFAULT_COMMANDS.catchUpMs;
    this.stored = new StoredQueries(local, (id) => journal.readArchived(id));
  }

  /**
   * Connects, creates or migrates the schema, boots from the latest checkpoint plus the journal
   * tail, and follows the journal from then on. Throws a JournalError naming the database URL
   * (password hidden) and the cause when it cannot.
   */
  static async open(options: SharedEngineOptions): Promise<SharedEngine> {
    const reflectMs = options.reflectMs ?? 1_000;
    if (!Number.isSafeInteger(reflectMs) || reflectMs < 0) throw new RangeError('reflectMs must be a whole number of ms');
    const local = new Engine(options);
    // The local engine decides commands only as trials and applies the journal's results
    // without events: its policy scheduler would arm timers on trials and apply outside one.
    // A shared deployment does not run auto_retry/timeout policies yet (README, docs/instances.md).
    local.policies.close();
    const feed = new ChangeFeed(options.onListenerError ?? reportToStderr);
    const port = await PgJournal.open({
      url: options.databaseUrl,
      schema: options.schema,
      poolSize: options.poolSize,
      synchronousCommit: options.synchronousCommit,
    });
    try {
      const journal = await SharedJournal.open(local, port, feed, local.clock, {
        follower: { ...DEFAULT_FOLLOWER, ...options.follower },
        commands: {
          catchUpMs: options.catchUpMs ?? DEFAULT_COMMANDS.catchUpMs,
          group: options.groupCommit ?? DEFAULT_COMMANDS.group,
        },
        checkpoint: { ...DEFAULT_CHECKPOINT, ...options.checkpoint },
        retention: { ...DEFAULT_RETENTION, ...options.retention },
        maintenanceMs: options.maintenanceMs ?? 1_000,
        timers: options.journalTimers ?? realTimers,
        log: options.log ?? ((message, error) => console.error(`pipestate: ${message}`, error ?? '')),
      });
      return new SharedEngine(local, journal, feed, options);
    } catch (error) {
      await port.close();
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading: from memory

  snapshot(): Snapshot {
    return this.local.snapshot();
  }

  /** The seq of the last change this instance applied. */
  get cursor(): number {
    return this.local.cursor;
  }

  get clock(): () => number {
    return this.local.clock;
  }

  /** What the instance booted from. */
  get boot(): BootReport {
    return this.journal.boot;
  }

  /** Node changes of the journal tail at boot (oldest first): watchers resume across instances from them. */
  recentChanges(): readonly NodeChange[] {
    return this.journal.recent;
  }

  /** Every instance's changes, in journal order, as this instance applies them. */
  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.feed.on(event, listener);
  }

  off<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.feed.off(event, listener);
  }

  /** Resolves once this instance has applied `cursor`; 3599999 after `timeoutMs` (default reflectMs). */
  reflect(cursor: number, timeoutMs = this.reflectMs): Promise<void> {
    if (!Number.isSafeInteger(cursor) || cursor < 0)
      return Promise.reject(invalid('min_cursor', 'must be a cursor: a whole number a command answered with'));
    return this.journal.reflect(cursor, timeoutMs);
  }

  /**
   * As Engine.whenDurable, for a cursor of any instance: a change is durable here once applied (it
   * was committed before it could be applied). Waits up to `catchUpMs`, then 3599999.
   */
  whenDurable(cursor: number): Promise<void> {
    return this.reflect(cursor, this.catchUpMs);
  }

  /** Everything applied here is committed: resolves at once. */
  durable(): Promise<void> {
    return Promise.resolve();
  }

  /** get_task_status; with `min_cursor` it reflects at least that cursor. */
  getTaskStatus(request: unknown, ctx?: RequestContext): Promise<Envelope<NodeStatus>> {
    return this.reading(request, ctx, () => this.stored.getTaskStatus(request, ctx));
  }

  getTasksStatus(request: unknown, ctx?: RequestContext): Promise<Envelope<TaskStatusEntry[]>> {
    return this.reading(request, ctx, () => this.stored.getTasksStatus(request, ctx));
  }

  getTaskNodeDetail(request: unknown, ctx?: RequestContext): Promise<Envelope<NodeDetail>> {
    return this.reading(request, ctx, () => this.stored.getTaskNodeDetail(request, ctx));
  }

  private async reading<T>(request: unknown, ctx: RequestContext | undefined, answer: () => Promise<Envelope<T>>): Promise<Envelope<T>> {
    try {
      const min = minCursorOf(request);
      if (min !== undefined) await this.reflect(min);
    } catch (error) {
      return fromError(error, ctx);
    }
    return answer();
  }

  // -------------------------------------------------------------------------------------------
  // Commands: through the journal

  /**
   * Registers a project unless one with its id is registered already (by any instance); resolves
   * with the registered project, which the caller compares to know whether it is the one it meant.
   */
  async ensureProject(input: ProjectInput): Promise<Project> {
    const { value, applied } = await this.journal.run({ projects: true }, () => {
      const existing = typeof input?.id === 'string' ? this.local.snapshot().getProject(input.id) : undefined;
      return existing ?? this.local.createProject(input);
    });
    return applied.length > 0 ? only(applied, 'project').project : value;
  }

  async createProject(input: ProjectInput): Promise<Project> {
    const { value, applied } = await this.journal.run({ projects: true }, () => this.local.createProject(input));
    return applied.length > 0 ? only(applied, 'project').project : value;
  }

  /** Registers a task; without `id` the id is drawn from the database, unique across instances. */
  async createTask(input: NewTaskInput): Promise<Task> {
    const explicit = typeof input === 'object' && input !== null && input.id !== undefined;
    const target: CommandTarget = explicit ? { task: taskIdOf(input.id) ?? String(input.id), projects: true } : { newTask: true };
    const { applied } = await this.journal.run(target, (taskId) =>
      this.local.createTask(explicit ? (input as TaskInput) : { ...input, id: taskId! }),
    );
    return only(applied, 'task').task;
  }

  async deleteTask(taskId: string): Promise<TaskDeleted> {
    const { applied } = await this.journal.run({ task: String(taskId) }, () => this.local.deleteTask(taskId));
    return only(applied, 'deleted').deleted;
  }

  /** An operation by name (see Engine.apply); resolves with its changes, numbered with their global seqs. */
  async apply(taskId: string, nodeId: string, operation: Operation | 'forcedFail', args?: OperationArgs): Promise<NodeChange[]> {
    const { applied } = await this.journal.run({ task: String(taskId) }, () => this.local.apply(taskId, nodeId, operation, args));
    return [...only(applied, 'nodes').changes];
  }

  start(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'start', args);
  }
  finish(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'finish', args);
  }
  fail(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'fail', args);
  }
  forcedFail(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'forced_fail', args);
  }
  pause(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'pause', args);
  }
  resume(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'resume', args);
  }
  retry(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'retry', args);
  }
  skip(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'skip', args);
  }
  reenter(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'reenter', args);
  }
  revoke(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'revoke', args);
  }
  callback(taskId: string, nodeId: string, args?: OperationArgs): Promise<NodeChange[]> {
    return this.apply(taskId, nodeId, 'callback', args);
  }

  /** operate_task; the answer carries the change's `cursor`. */
  operateTask(request: unknown, ctx?: RequestContext): Promise<Envelope<OperationResult>> {
    return this.envelope('operate_task', request, ctx, () => this.local.operateTask(request, ctx));
  }

  /** operate_node; the answer carries the change's `cursor`. */
  operateNode(request: unknown, ctx?: RequestContext): Promise<Envelope<OperationResult>> {
    return this.envelope('operate_node', request, ctx, () => this.local.operateNode(request, ctx));
  }

  /**
   * A request-shaped command (an in-process API method, or an HTTP route's) run through the
   * journal: `answer` runs once, as the trial decision, on this instance's engine brought up to
   * the task's latest change (for a new task, `createTask` there receives the drawn id). An
   * accepted answer's `cursor` is the journal's. Never throws.
   */
  async envelope<T>(
    route: string,
    params: unknown,
    ctx: RequestContext | undefined,
    answer: (engine: Engine) => Envelope<T>,
  ): Promise<Envelope<T>> {
    const id = taskIdOf((params as Record<string, unknown> | null)?.task_id);
    const target: CommandTarget =
      route === 'create_task' ? (id !== undefined ? { task: id, projects: true } : { newTask: true }) : { task: id ?? '' };
    if (id === undefined && route !== 'create_task') {
      // Not a task id: the request is refused while it is read, before anything could change.
      return answer(this.local);
    }
    try {
      const { value, applied } = await this.journal.run(target, (taskId) =>
        answer(route === 'create_task' && id === undefined ? withTaskId(this.local, taskId!) : this.local),
      );
      const cursor = lastSeq(applied);
      if (!value.result || cursor === undefined || typeof value.data !== 'object' || value.data === null) return value;
      return { ...value, data: { ...value.data, cursor } as T };
    } catch (error) {
      return fromError(error, ctx, (e) => console.error('pipestate: unexpected error in a command', e));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Operations

  status(): SharedStatus {
    return this.journal.status();
  }

  /** Writes a checkpoint now if this instance holds the maintenance lease (else another does it). */
  checkpoint(): Promise<SharedCheckpoint | undefined> {
    return this.journal.checkpoint();
  }

  sweep(): Promise<SweepReport> {
    return this.journal.sweep();
  }

  /** Stops following; the lease holder writes a last checkpoint. Commands are refused from here on. */
  close(): Promise<void> {
    this.local.policies.close();
    return this.journal.close();
  }

  /**
   * What the HTTP adapter serves: queries from memory (naming min_cursor or not), commands through
   * the journal (the `command` hook), and headers that say how current the answer is.
   */
  httpPort(): EnginePort {
    // A Proxy over the local engine, so that whatever else the adapter comes to use of an engine
    // is the local one's (its mutators are refused outside a trial decision: commands come
    // through `command`); these members are the shared engine's.
    const overrides = new Map<PropertyKey, unknown>([
      ['durable', () => Promise.resolve()], // a change is answered once applied here, and applied means committed
      ['recentChanges', () => this.recentChanges()],
      ['on', this.on.bind(this)],
      ['off', this.off.bind(this)],
      ['getTaskStatus', this.getTaskStatus.bind(this)],
      ['getTasksStatus', this.getTasksStatus.bind(this)],
      ['getTaskNodeDetail', this.getTaskNodeDetail.bind(this)],
      ['operateTask', this.operateTask.bind(this)],
      ['operateNode', this.operateNode.bind(this)],
      [
        'command',
        (
          route: string,
          params: unknown,
          ctx: RequestContext,
          run: (engine: EnginePort) => Envelope<unknown> | Promise<Envelope<unknown>>,
        ) => {
          if (!COMMAND_ROUTES.has(route)) return undefined;
          return this.envelope(route, params, ctx, (engine) => {
            const answer = run(engine);
            if (answer instanceof Promise) throw new Error(`the ${route} route answered asynchronously inside a command`);
            return answer;
          });
        },
      ],
      ['reflect', (cursor: number) => this.reflect(cursor)],
      ['answerHeaders', () => this.answerHeaders()],
    ]);
    return overriding(this.local, overrides) as unknown as EnginePort;
  }

  /** X-Pipestate-Cursor: what this instance has applied; X-Pipestate-Stale-Ms while the journal cannot be read. */
  answerHeaders(): ReadonlyMap<string, string> {
    const s = this.journal.status();
    const headers = new Map([['X-Pipestate-Cursor', String(s.cursor)]]);
    if (s.journal !== 'ok') headers.set('X-Pipestate-Stale-Ms', String(Math.round(s.staleMs)));
    return headers;
  }
}

/** The engine, but a new task without an id gets `taskId` (drawn from the database). */
function withTaskId(engine: Engine, taskId: string): Engine {
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === 'createTask') return (input: TaskInput) => target.createTask({ ...input, id: input?.id ?? taskId });
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Opens an engine on a shared PostgreSQL journal (see SharedEngine). */
export function openSharedEngine(options: SharedEngineOptions): Promise<SharedEngine> {
  return SharedEngine.open(options);
}

export type { SharedStatus, BootReport };
