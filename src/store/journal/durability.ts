/**
 * A store made durable: recovery from the port, then group commit, checkpoints and retention,
 * wired together. The engine's durable variant (api/durable-engine.ts) is this plus the HTTP-facing
 * parts; an embedder of the store layer can use it directly.
 */
import type { NodeChange } from '../events.js';
import type { Store } from '../store.js';
import type { TaskView } from '../task-slot.js';
import { Checkpointer, DEFAULT_CHECKPOINT, type CheckpointOptions, type CheckpointReport } from './checkpointer.js';
import { DEFAULT_GROUP_COMMIT, GroupCommit, type GroupCommitOptions } from './group-commit.js';
import type { JournalPort } from './port.js';
import { recover, type RecoveryReport } from './recovery.js';
import { DEFAULT_RETENTION, Retention, type RetentionOptions, type SweepReport } from './retention.js';
import type { JournalStatus } from './sink.js';
import { realTimers, type Timers } from './timers.js';

export interface DurabilityOptions extends GroupCommitOptions {
  readonly checkpoint: CheckpointOptions;
  readonly retention: RetentionOptions;
  readonly timers: Timers;
  /** what goes wrong in the background (a failed write, checkpoint or sweep), and recovery from it */
  readonly log: (message: string, error?: unknown) => void;
}

export const DEFAULT_DURABILITY: DurabilityOptions = {
  ...DEFAULT_GROUP_COMMIT,
  checkpoint: DEFAULT_CHECKPOINT,
  retention: DEFAULT_RETENTION,
  timers: realTimers,
  log: (message, error) => console.error(`pipestate: ${message}`, error ?? ''),
};

export class Durability {
  private constructor(
    private readonly port: JournalPort,
    private readonly commits: GroupCommit,
    private readonly checkpointer: Checkpointer,
    private readonly retention: Retention,
    private readonly options: DurabilityOptions,
    readonly recovery: RecoveryReport,
    /** the last node changes journaled before this start, oldest first */
    readonly recent: readonly NodeChange[],
  ) {}

  /**
   * Replays what `port` holds into `store` (which must be new), then journals every change the
   * store accepts. `clock` is the engine's: retention ages are measured with it.
   */
  static async open(store: Store, port: JournalPort, clock: () => number, options: DurabilityOptions): Promise<Durability> {
    const hold = store.attachJournal();
    const { report, recent } = await recover(port, hold, options.checkpoint.keepChanges);
    const { log, timers } = options;
    let checkpointer: Checkpointer | undefined;
    const commits = new GroupCommit(
      port,
      hold,
      options,
      timers,
      {
        written: (lsn) => checkpointer?.written(lsn),
        failed: (error, discarded) =>
          log(
            `journal write failed; ${discarded} change(s) not yet durable were undone; writes are refused until the storage takes them again`,
            error,
          ),
        recovered: () => log('journal writable again; writes are accepted'),
      },
      { lsn: report.lsn },
    );
    checkpointer = new Checkpointer(
      port,
      hold,
      commits,
      options.checkpoint,
      (e) => log('checkpoint failed (the journal still holds every change)', e),
      report.checkpointLsn,
    );
    const retention = new Retention(port, hold, commits, clock, (id) => hold.project(id), options.retention);
    hold.connect(commits);
    retention.start(timers, (e) => log('retention sweep failed', e));
    return new Durability(port, commits, checkpointer, retention, options, report, recent);
  }

  status(): JournalStatus {
    return this.commits.status();
  }

  /** Writes a checkpoint now (one in progress is awaited instead); undefined when nothing changed since the last. */
  checkpoint(): Promise<CheckpointReport | undefined> {
    return this.checkpointer.run();
  }

  /** Runs retention now: tasks due leave memory, expired archived tasks are forgotten. */
  sweep(): Promise<SweepReport> {
    return this.retention.sweep();
  }

  /** An archived task, read back from storage, until it expires. */
  readArchived(taskId: string): Promise<TaskView | undefined> {
    return this.retention.read(taskId);
  }

  private closing: Promise<void> | undefined;

  /** Writes what is pending, refuses further changes, writes a last checkpoint, closes the storage. Once. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.retention.stop(this.options.timers);
    await this.retention.idle();
    await this.checkpointer.idle();
    await this.commits.close();
    try {
      await this.checkpointer.run();
    } catch (error) {
      this.options.log('the checkpoint at shutdown failed (the journal still holds every change)', error);
    }
    await this.port.close();
  }
}
