/**
 * The command path of a shared deployment. A command is decided against its task's latest
 * journaled state, whichever instance wrote it:
 *
 * 1. a storage transaction takes the task's lock (tasks lock apart: no global write lock), and
 *    reads the task's latest journal position;
 * 2. this instance's follower applies the journal up to that position;
 * 3. the store decides, exactly as in process (same checks, same refusals), but as a trial: the
 *    changes it makes are captured as journal entries and undone at once (the immutable tree
 *    makes both O(1)), so memory never holds a change the database has not taken;
 * 4. the entries are appended and the transaction commits;
 * 5. the follower applies them, in journal order, numbering them with their global seqs, and the
 *    command answers with what was applied.
 *
 * A refusal at step 3 is the in-process refusal: two instances racing on one node (two retries,
 * a finish against a revoke) both lock the task, so the second decides after the first's change
 * is applied, and is answered as the in-process engine would answer after the winner.
 */
import { PipestateError, type PipelineDefinition, type Project, type Task } from '../../../model/index.js';
import type { NodeChange, TaskCreated, TaskDeleted } from '../../events.js';
import type { ArchivedEntry, JournalEntry } from '../entries.js';
import { journalUnavailable } from '../errors.js';
import type { JournalHold } from '../hold.js';
import type { ChangeSink, JournalStatus } from '../sink.js';
import type { Timers } from '../timers.js';
import { databaseReason } from '../postgres/connection.js';
import type { Follower } from './follower.js';
import { positionText, type Position } from './position.js';
import type { CommandTransaction, SharedJournalPort } from './port.js';

/** The key project registrations journal under (task ids are digit strings: never empty). */
export const PROJECTS_KEY = '';

/**
 * The store's sink in a shared deployment: changes are accepted only inside a trial (`capture`),
 * where they are recorded and then undone. Anything else that tries to change the store directly
 * is refused: in a shared deployment, changes go through the command path.
 */
export class CaptureSink implements ChangeSink {
  private captured: JournalEntry[] | undefined;

  constructor(private readonly hold: JournalHold, private readonly follower: Follower, private readonly waitMs: number, private readonly location: string) {}

  /** Runs `decide` as a trial: returns its value and the entries it produced, with the store unchanged. */
  capture<T>(decide: () => T): { readonly value: T; readonly entries: readonly JournalEntry[] } {
    if (this.captured !== undefined) throw new Error('a trial is already running');
    const mark = this.hold.mark();
    const entries: JournalEntry[] = [];
    this.captured = entries;
    try {
      return { value: decide(), entries };
    } finally {
      this.captured = undefined;
      this.hold.restore(mark, entries);
    }
  }

  admit(): void {
    if (this.captured === undefined) {
      throw journalUnavailable('in a shared deployment changes go through the command path (the async engine methods), not the store');
    }
  }

  project(project: Project): void {
    this.captured!.push({ kind: 'project', project });
  }

  task(created: TaskCreated, task: Task, definition: PipelineDefinition): void {
    this.captured!.push({ kind: 'task', created, task, definition });
  }

  nodes(changes: readonly NodeChange[], ended: boolean): void {
    this.captured!.push({ kind: 'nodes', changes, ended });
  }

  deleted(deleted: TaskDeleted): void {
    this.captured!.push({ kind: 'deleted', deleted });
  }

  /** Inside a trial: the task leaves memory for the archive (retention); undone with the trial. */
  archive(entry: ArchivedEntry): void {
    this.admit();
    this.hold.removeTask(entry.taskId, undefined);
    this.captured!.push(entry);
  }

  /** Applied here means committed: a change is durable once this instance has applied it. */
  whenDurable(cursor: number): Promise<void> {
    return this.follower.untilSeq(cursor, this.waitMs, () => `cursor ${cursor}`);
  }

  durable(): Promise<void> {
    return Promise.resolve();
  }

  status(): JournalStatus {
    // positions: entries applied here (every one of them committed)
    return { storage: this.location, mode: 'shared', journal: this.follower.unavailable?.reason ?? 'ok', accepted: this.follower.entries, durable: this.follower.entries };
  }
}

/** The key an entry is journaled under: its task, or the projects' key. */
export function keyOf(entry: JournalEntry): string {
  switch (entry.kind) {
    case 'project': return PROJECTS_KEY;
    case 'task': return entry.task.id;
    case 'nodes': return entry.changes[0].taskId;
    case 'deleted': return entry.deleted.taskId;
    case 'archived': return entry.taskId;
  }
}

export interface CommandOptions {
  /** ms a command waits for this instance to apply its task's latest change (or its own); default 5,000 */
  readonly catchUpMs: number;
}

export const DEFAULT_COMMANDS: CommandOptions = { catchUpMs: 5_000 };

/** What a command locks: a task (by id, or a new id drawn from the shared sequence), or the projects. */
export type CommandTarget =
  | { readonly task: string; readonly projects?: boolean }
  | { readonly newTask: true }
  | { readonly projects: true };

export interface CommandResult<T> {
  readonly value: T;
  /** the entries as applied here, with their seqs; empty when the command changed nothing */
  readonly applied: readonly JournalEntry[];
  /** the task id drawn for a new task */
  readonly taskId?: string;
}

export class SharedCommands {
  constructor(
    private readonly port: SharedJournalPort,
    private readonly follower: Follower,
    private readonly sink: CaptureSink,
    private readonly options: CommandOptions,
    private readonly timers: Timers,
  ) {}

  /**
   * Runs one command: `decide` is called once, synchronously, on this instance's store brought
   * up to the target's latest change, with the drawn task id for a new task. A refusal it throws
   * is thrown on, and nothing is written.
   */
  async run<T>(target: CommandTarget, decide: (taskId: string | undefined) => T): Promise<CommandResult<T>> {
    const down = this.follower.unavailable;
    if (down !== undefined) throw journalUnavailable(down.reason);
    let tx: CommandTransaction;
    try {
      tx = await this.port.begin();
    } catch (error) {
      throw journalUnavailable(databaseReason(error));
    }
    let committing = false;
    try {
      let taskId: string | undefined;
      let head: Position | undefined;
      const keys: string[] = [];
      if ('newTask' in target) {
        taskId = await tx.drawTaskId();
        keys.push(taskId, PROJECTS_KEY);
        head = await tx.lock(taskId, keys);
      } else if ('task' in target) {
        taskId = target.task;
        keys.push(taskId);
        if (target.projects === true) keys.push(PROJECTS_KEY);
        head = await tx.lock(taskId, keys);
      } else {
        keys.push(PROJECTS_KEY);
        head = await tx.lock(PROJECTS_KEY, keys);
      }
      if (head !== undefined) {
        await this.follower.until(head, this.options.catchUpMs, () => `the latest change of ${taskId === undefined ? 'the projects' : `task ${taskId}`} (${positionText(head)})`);
      }
      const { value, entries } = this.sink.capture(() => decide(taskId));
      if (entries.length === 0) {
        await tx.rollback();
        return { value, applied: [], taskId };
      }
      for (const e of entries) {
        if (!keys.includes(keyOf(e))) throw new UnlockedChange(keys, keyOf(e));
      }
      if (taskId !== undefined && 'task' in target) {
        const created = entries.find((e) => e.kind === 'task');
        if (created !== undefined) await tx.raiseTaskId(taskId);
      }
      committing = true;
      const xid = await tx.appendAndCommit(entries.map((entry) => ({ key: keyOf(entry), entry })));
      // The follower may have applied it already (it keeps the recent transactions for this).
      const expectation = this.follower.expect(xid, entries.length);
      this.follower.kick();
      const applied = await this.withTimeout(expectation.applied, () => expectation.cancel());
      return { value, applied, taskId };
    } catch (error) {
      if (!committing) await tx.rollback();
      if (error instanceof PipestateError || error instanceof UnlockedChange) throw error;
      throw journalUnavailable(databaseReason(error));
    }
  }

  /** A committed command whose entries this instance does not apply in time: said plainly. */
  private withTimeout(applied: Promise<readonly JournalEntry[]>, cancel: () => void): Promise<readonly JournalEntry[]> {
    return new Promise((resolve, reject) => {
      const ms = this.options.catchUpMs;
      const timer = this.timers.schedule(() => {
        cancel();
        reject(journalUnavailable(`the change was journaled, but this instance did not apply it within ${ms} ms; query with min_cursor later to see it`));
      }, ms);
      applied.then((entries) => {
        this.timers.cancel(timer);
        resolve(entries);
      }, reject);
    });
  }
}

/** A decision changed something its command did not lock: a bug, never written. */
export class UnlockedChange extends Error {
  override readonly name = 'UnlockedChange';
  constructor(locked: readonly string[], changed: string) {
    super(`a command locked ${locked.map((k) => k || 'the projects').join(', ')} but changed ${changed || 'the projects'}`);
  }
}
