/**
 * The engine made durable: the same engine (memory stays the working set and the only thing
 * in-memory queries read), over a journal in a data directory. `openEngine` recovers what the
 * directory holds (latest checkpoint + journal tail) before it resolves; from then on every
 * accepted change is journaled, and `whenDurable(cursor)` / `durable()` say when it is safe.
 *
 * Archived tasks (retention) are no longer in memory: `engine.stored` answers the three queries
 * from memory or, for those, from storage (asynchronously), in the same shape.
 */
import { ERROR_CODES } from '../model/index.js';
import type { NodeChange, Snapshot, TaskView } from '../store/index.js';
import {
  DEFAULT_DURABILITY,
  DURABILITY_MODES,
  Durability,
  SqliteJournal,
  checkRetention,
  type CheckpointOptions,
  type CheckpointReport,
  type DurabilityMode,
  type RecoveryReport,
  type RetentionOptions,
  type SweepReport,
  type Timers,
} from '../store/journal/index.js';
import { Engine, type EngineOptions } from './engine.js';
import { fromError } from './envelope.js';
import { TASKS_STATUS, TASK_STATUS, parseRequest } from './requests.js';
import type { NodeDetail, NodeStatus, TaskStatusEntry } from '../query/index.js';
import type { Envelope, RequestContext } from './types.js';

export interface DurableEngineOptions extends EngineOptions {
  /** the data directory: created when missing; it must hold a pipestate journal or nothing */
  readonly dataDir: string;
  /** `always`, `batch` (default) or `off`: see README "Durability" */
  readonly durability?: DurabilityMode;
  /** `batch`: at most one write (and fsync) per this many ms; default 5 */
  readonly batchMs?: number;
  /** changes accepted but not yet durable beyond which writes are refused; default 200,000 */
  readonly maxPending?: number;
  /** ms between write probes while the journal is unavailable; default 1,000 */
  readonly retryMs?: number;
  readonly checkpoint?: Partial<CheckpointOptions>;
  readonly retention?: Partial<RetentionOptions>;
  /** scheduling of batches, probes and sweeps; tests inject manual timers (`timers` is the policy scheduler's) */
  readonly journalTimers?: Timers;
  /** background failures (a write, a checkpoint, a sweep); default stderr */
  readonly log?: (message: string, error?: unknown) => void;
}

const positiveInt = (v: number | undefined, name: string, min = 1): void => {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) throw new RangeError(`${name} must be a whole number of at least ${min}`);
};

export class DurableEngine extends Engine {
  private durability!: Durability;
  /** get_task_status, get_tasks_status and get_task_node_detail that also answer archived tasks, from storage */
  readonly stored: StoredQueries = new StoredQueries(this, (id) => this.durability.readArchived(id));

  private constructor(options: DurableEngineOptions) {
    super(options);
  }

  /** Opens (or creates) the data directory and recovers it. Throws a JournalError naming the path and cause. */
  static async open(options: DurableEngineOptions): Promise<DurableEngine> {
    const mode = options.durability ?? DEFAULT_DURABILITY.mode;
    if (!DURABILITY_MODES.includes(mode)) throw new RangeError(`durability must be one of ${DURABILITY_MODES.join(', ')}`);
    positiveInt(options.batchMs, 'batchMs', 0);
    positiveInt(options.maxPending, 'maxPending');
    positiveInt(options.retryMs, 'retryMs');
    positiveInt(options.checkpoint?.every, 'checkpoint.every');
    positiveInt(options.checkpoint?.chunk, 'checkpoint.chunk');
    positiveInt(options.checkpoint?.keepChanges, 'checkpoint.keepChanges', 0);
    const retention = { ...DEFAULT_DURABILITY.retention, ...options.retention };
    checkRetention(retention);
    const engine = new DurableEngine(options);
    const port = await SqliteJournal.open(options.dataDir, { sync: mode !== 'off' });
    try {
      engine.durability = await Durability.open(engine, port, engine.clock, {
        mode,
        batchMs: options.batchMs ?? DEFAULT_DURABILITY.batchMs,
        maxPending: options.maxPending ?? DEFAULT_DURABILITY.maxPending,
        retryMs: options.retryMs ?? DEFAULT_DURABILITY.retryMs,
        checkpoint: { ...DEFAULT_DURABILITY.checkpoint, ...options.checkpoint },
        retention,
        timers: options.journalTimers ?? DEFAULT_DURABILITY.timers,
        log: options.log ?? DEFAULT_DURABILITY.log,
      });
    } catch (error) {
      engine.policies.close();
      await port.close().catch(() => undefined);
      throw error;
    }
    // Replay registers tasks and moves nodes without events: the policy scheduler is told of
    // every recovered task, and arms what their nodes' records call for (a FAILED node with
    // auto_retry left, a RUNNING one under a timeout), as if the process had never stopped.
    for (const t of engine.snapshot().tasksInOrder()) engine.policies.follow(t.task.id);
    return engine;
  }

  /** What was recovered at open: projects, tasks, nodes, journal entries replayed, seconds. */
  get recovery(): RecoveryReport {
    return this.durability.recovery;
  }

  override recentChanges(): readonly NodeChange[] {
    return this.durability.recent;
  }

  /** Writes a checkpoint now; undefined when nothing changed since the last. */
  checkpoint(): Promise<CheckpointReport | undefined> {
    return this.durability.checkpoint();
  }

  /** Runs retention now (it also runs on its own every `retention.sweepEveryMs`). */
  sweep(): Promise<SweepReport> {
    return this.durability.sweep();
  }

  /** Writes what is pending and a last checkpoint, then closes the journal; changes are refused from here on. */
  override close(): Promise<void> {
    this.policies.close();
    return this.durability.close();
  }
}

/** Opens a durable engine on a data directory (see DurableEngine). */
export function openEngine(options: DurableEngineOptions): Promise<DurableEngine> {
  return DurableEngine.open(options);
}

/**
 * The three queries, answered from memory first and, when the task is not there, from the
 * archive: the same code answers them, over a snapshot that includes the archived tasks.
 */
export class StoredQueries {
  constructor(
    private readonly engine: Engine,
    private readonly readArchived: (taskId: string) => Promise<TaskView | undefined>,
  ) {}

  async getTaskStatus(request: unknown, ctx?: RequestContext): Promise<Envelope<NodeStatus>> {
    const here = this.engine.getTaskStatus(request, ctx);
    return here.code !== ERROR_CODES.notFound
      ? here
      : this.retry(
          here,
          () => [parseRequest(TASK_STATUS, request).task_id],
          (snap) => this.engine.taskStatusIn(snap, request, ctx),
          ctx,
        );
  }

  async getTaskNodeDetail(request: unknown, ctx?: RequestContext): Promise<Envelope<NodeDetail>> {
    const here = this.engine.getTaskNodeDetail(request, ctx);
    return here.code !== ERROR_CODES.notFound
      ? here
      : this.retry(
          here,
          () => [parseRequest(TASK_STATUS, request).task_id],
          (snap) => this.engine.taskNodeDetailIn(snap, request, ctx),
          ctx,
        );
  }

  async getTasksStatus(request: unknown, ctx?: RequestContext): Promise<Envelope<TaskStatusEntry[]>> {
    const here = this.engine.getTasksStatus(request, ctx);
    return !here.result || here.message === ''
      ? here
      : this.retry(
          here,
          () => parseRequest(TASKS_STATUS, request).task_id_list,
          (snap) => this.engine.tasksStatusIn(snap, request, ctx),
          ctx,
        );
  }

  /** The answer again, over the snapshot plus those of `ids` that are archived; the first answer when none is. */
  private async retry<T>(
    first: Envelope<T>,
    ids: () => readonly string[],
    answer: (snap: Snapshot) => Envelope<T>,
    ctx?: RequestContext,
  ): Promise<Envelope<T>> {
    try {
      const snap = this.engine.snapshot();
      const missing = [...new Set(ids())].filter((id) => snap.getTask(id) === undefined);
      const found = (await Promise.all(missing.map(this.readArchived))).filter((t): t is TaskView => t !== undefined);
      return found.length === 0 ? first : answer(this.engine.snapshot().including(found));
    } catch (error) {
      return fromError(error, ctx ?? {}, (e) => console.error('pipestate: reading an archived task failed', e));
    }
  }
}
