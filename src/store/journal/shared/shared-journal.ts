/**
 * A store kept as a follower of a shared journal (issue 11): boot from the latest checkpoint
 * plus the journal tail, then the follower applies every instance's changes, the command path
 * decides and journals this instance's, and one instance at a time (the holder of a lease, an
 * advisory lock that goes with its connection) writes checkpoints, drops what they cover, and
 * runs retention. The API layer's SharedEngine is this plus the request-shaped API.
 */
import { recordAt, type TaskView } from '../../task-slot.js';
import type { ChangeFeed, NodeChange } from '../../events.js';
import type { Store } from '../../store.js';
import type { CheckpointOptions } from '../checkpointer.js';
import { TaskAssembler, encodeProject, encodeTask, taskParts } from '../codec.js';
import { JournalError, journalUnavailable } from '../errors.js';
import { ReplayMismatch, taskFromParts, type JournalHold } from '../hold.js';
import type { CheckpointPart } from '../port.js';
import { checkRetention, type RetentionOptions, type SweepReport } from '../retention.js';
import type { TimerHandle, Timers } from '../timers.js';
import { CaptureSink, SharedCommands, type CommandOptions, type CommandResult, type CommandTarget } from './commands.js';
import { Follower, type FollowerOptions } from './follower.js';
import { comparePositions, positionText, type Position } from './position.js';
import type { Lease, SharedCheckpoint, SharedJournalPort } from './port.js';

export interface SharedJournalOptions {
  readonly follower: FollowerOptions;
  readonly commands: CommandOptions;
  readonly checkpoint: CheckpointOptions;
  readonly retention: RetentionOptions;
  /** ms between the lease holder's maintenance rounds (checkpoint due? tasks to archive?); default 1,000 */
  readonly maintenanceMs: number;
  readonly timers: Timers;
  readonly log: (message: string, error?: unknown) => void;
}

export interface BootReport {
  readonly projects: number;
  readonly tasks: number;
  readonly nodes: number;
  /** the checkpoint booted from, if any */
  readonly checkpoint: SharedCheckpoint | undefined;
  /** journal entries applied after it */
  readonly changes: number;
  readonly seq: number;
  readonly seconds: number;
}

export interface SharedStatus {
  readonly storage: string;
  /** "ok", or why commands are refused */
  readonly journal: string;
  /** this instance's cursor: the seq of the last change applied */
  readonly cursor: number;
  readonly position: string;
  /** ms since the journal was last read */
  readonly staleMs: number;
  /** does this instance hold the maintenance lease now */
  readonly maintenance: boolean;
}

const DONE = new Set(['FINISHED', 'REVOKED']);

export class SharedJournal {
  private lease: Lease | undefined;
  private timer: TimerHandle | undefined;
  private round: Promise<void> | undefined;
  private lastCheckpoint: SharedCheckpoint | undefined;
  private closed = false;

  private constructor(
    private readonly port: SharedJournalPort,
    private readonly hold: JournalHold,
    readonly follower: Follower,
    private readonly sink: CaptureSink,
    private readonly commands: SharedCommands,
    private readonly clock: () => number,
    private readonly options: SharedJournalOptions,
    readonly boot: BootReport,
    /** node changes of the journal tail at boot, oldest first, for watchers resuming here */
    readonly recent: readonly NodeChange[],
  ) {
    this.lastCheckpoint = boot.checkpoint;
  }

  /**
   * Boots `store` (new, empty) from `port` and follows it from then on. Events of applied changes
   * go to `feed`. Throws a JournalError when what the database holds does not replay.
   */
  static async open(
    store: Store,
    port: SharedJournalPort,
    feed: ChangeFeed,
    clock: () => number,
    options: SharedJournalOptions,
  ): Promise<SharedJournal> {
    checkRetention(options.retention);
    const started = performance.now();
    const hold = store.attachJournal();
    const follower = new Follower(port, hold, feed, options.timers, options.follower, options.log);
    const checkpoint = await port.latestCheckpoint();
    let recent: readonly NodeChange[];
    try {
      if (checkpoint !== undefined) {
        const assembler = new TaskAssembler(
          (task, definition) => hold.addTask(task, definition, undefined),
          (part) => hold.fillTask(part),
        );
        for await (const part of port.readCheckpoint(checkpoint.id)) {
          if (part.kind === 'projects') for (const p of part.projects) hold.addProject(p);
          else assembler.push(part);
        }
        assembler.end();
        hold.startAt(checkpoint.seq, checkpoint.highestTaskId);
        follower.startAt(checkpoint.position, checkpoint.entries);
      }
      recent = await follower.catchUp(options.checkpoint.keepChanges);
    } catch (error) {
      if (error instanceof ReplayMismatch || error instanceof TypeError) {
        throw new JournalError(port.location, `does not replay: ${error.message}`, { cause: error });
      }
      throw error;
    }
    const halted = follower.unavailable;
    if (halted !== undefined) throw new JournalError(port.location, halted.reason);
    const sink = new CaptureSink(hold, follower, options.commands.catchUpMs, port.location);
    hold.connect(sink);
    const commands = new SharedCommands(port, follower, sink, options.commands, options.timers);
    const snap = hold.snapshot();
    let nodes = 0;
    for (const t of snap.tasksInOrder()) nodes += t.definition.size;
    const boot: BootReport = {
      projects: snap.projectsInOrder().length,
      tasks: snap.size,
      nodes,
      checkpoint,
      changes: follower.entries - (checkpoint?.entries ?? 0),
      seq: hold.seq,
      seconds: (performance.now() - started) / 1000,
    };
    const shared = new SharedJournal(port, hold, follower, sink, commands, clock, options, boot, recent);
    await follower.start();
    shared.scheduleMaintenance();
    return shared;
  }

  /** Runs one command (see commands.ts). */
  run<T>(target: CommandTarget, decide: (taskId: string | undefined) => T): Promise<CommandResult<T>> {
    if (this.closed) return Promise.reject(journalUnavailable('the engine is closed'));
    return this.commands.run(target, decide);
  }

  /** Resolves once this instance has applied the change with this seq; a clear refusal after `timeoutMs`. */
  reflect(seq: number, timeoutMs: number): Promise<void> {
    return this.follower.untilSeq(seq, timeoutMs, () => `cursor ${seq}`);
  }

  status(): SharedStatus {
    const down = this.follower.unavailable;
    return {
      storage: this.port.location,
      journal: this.closed ? 'the engine is closed' : (down?.reason ?? 'ok'),
      cursor: this.follower.seq,
      position: positionText(this.follower.position),
      staleMs: this.follower.staleMs,
      maintenance: this.lease?.held === true,
    };
  }

  /** An archived task, read back from the database, until it expires. */
  async readArchived(taskId: string): Promise<TaskView | undefined> {
    const row = await this.port.readArchived(taskId);
    if (row === undefined || row.expiresAt <= this.clock()) return undefined;
    return taskFromParts(row.parts, (id) => this.hold.project(id));
  }

  /**
   * Writes a checkpoint of this instance's state now, if it holds (or can take) the maintenance
   * lease; undefined when another instance holds it or nothing changed since the last.
   */
  async checkpoint(): Promise<SharedCheckpoint | undefined> {
    if (!(await this.leased())) return undefined;
    return this.writeCheckpoint();
  }

  /** Runs retention now, if this instance holds (or can take) the lease. */
  async sweep(): Promise<SweepReport> {
    if (!(await this.leased())) return { archived: 0, expired: 0 };
    return this.sweepNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) this.options.timers.cancel(this.timer);
    await this.round?.catch(() => undefined);
    if (this.lease?.held === true) {
      await this.writeCheckpoint().catch((e: unknown) =>
        this.options.log('the checkpoint at shutdown failed (the journal still holds every change)', e),
      );
    }
    await this.lease?.release();
    await this.follower.close();
    await this.port.close();
  }

  // -------------------------------------------------------------------------------------------
  // Maintenance, by the lease holder

  private scheduleMaintenance(): void {
    if (this.closed) return;
    this.timer = this.options.timers.schedule(() => {
      this.timer = undefined;
      this.round = this.maintain()
        .catch((e: unknown) => this.options.log('maintenance failed (it runs again)', e))
        .finally(() => {
          this.round = undefined;
          this.scheduleMaintenance();
        });
    }, this.options.maintenanceMs);
  }

  private async leased(): Promise<boolean> {
    if (this.lease?.held === true) return true;
    this.lease = await this.port.lease('maintenance');
    return this.lease.held;
  }

  private async maintain(): Promise<void> {
    if (this.follower.unavailable !== undefined || !(await this.leased())) return;
    const since = this.follower.entries - (this.lastCheckpoint?.entries ?? 0);
    if (since >= this.options.checkpoint.every) await this.writeCheckpoint();
    if (this.nextSweepAt <= this.clock()) {
      this.nextSweepAt = this.clock() + this.options.retention.sweepEveryMs;
      await this.sweepNow();
    }
  }

  private nextSweepAt = 0;

  private async writeCheckpoint(): Promise<SharedCheckpoint | undefined> {
    const position = this.follower.position;
    if (this.lastCheckpoint !== undefined && comparePositions(position, this.lastCheckpoint.position) <= 0) return undefined;
    if (this.follower.entries === 0) return undefined;
    // One synchronous moment: the snapshot, its position and its seq go together.
    const snap = this.hold.snapshot();
    const seq = this.hold.seq;
    const entries = this.follower.entries;
    const highestTaskId = this.hold.highestTaskId;
    let nodes = 0;
    for (const t of snap.tasksInOrder()) nodes += t.definition.size;
    const chunk = this.options.checkpoint.chunk;
    async function* parts(): AsyncIterable<CheckpointPart> {
      yield ['projects', snap.projectsInOrder().map(encodeProject)];
      for (const t of snap.tasksInOrder()) for (const p of taskParts(t, chunk)) yield p;
    }
    const previous = this.lastCheckpoint;
    const written = await this.port.writeCheckpoint(
      {
        position,
        seq,
        entries,
        projects: snap.projectsInOrder().length,
        tasks: snap.size,
        nodes,
        highestTaskId,
        takenAt: Date.now(),
      },
      parts(),
    );
    this.lastCheckpoint = written;
    // The tail since the previous checkpoint stays, for watchers and instances a little behind.
    const floor: Position | undefined = previous?.position;
    if (floor !== undefined) await this.port.dropBefore(written, floor);
    return written;
  }

  /**
   * Retention across instances: a task done for good leaves memory `archiveAfterMs` after its root
   * finished. Leaving is a command on the task like any other (its lock, its latest state), so it
   * never races a command on the same task; every instance applies the `archived` entry.
   */
  private async sweepNow(): Promise<SweepReport> {
    const { archiveAfterMs, expireAfterMs } = this.options.retention;
    const now = this.clock();
    const due: TaskView[] = [];
    for (const view of this.hold.snapshot().tasksInOrder()) {
      const root = recordAt(view, 0);
      if (DONE.has(root.state) && root.finished_at !== null && root.finished_at + archiveAfterMs <= now) due.push(view);
    }
    let archived = 0;
    for (const view of due) {
      const taskId = view.task.id;
      const state = await encodeTask(view);
      const finishedAt = recordAt(view, 0).finished_at!;
      const { applied } = await this.run({ task: taskId }, () => {
        // Changed since it was encoded (here or on another instance): the next sweep looks again.
        if (this.hold.task(taskId) !== view) return;
        this.sink.archive({
          kind: 'archived',
          taskId,
          projectId: view.task.project_id,
          at: this.clock(),
          expiresAt: finishedAt + expireAfterMs,
          state,
        });
      });
      if (applied.length > 0) archived++;
    }
    const expired = await this.port.expireArchived(now);
    return { archived, expired };
  }
}
