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

  constructor(
    private readonly hold: JournalHold,
    private readonly follower: Follower,
    private readonly waitMs: number,
    private readonly location: string,
  ) {}

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
    return {
      storage: this.location,
      mode: 'shared',
      journal: this.follower.unavailable?.reason ?? 'ok',
      accepted: this.follower.entries,
      durable: this.follower.entries,
    };
  }
}

/** The key an entry is journaled under: its task, or the projects' key. */
export function keyOf(entry: JournalEntry): string {
  switch (entry.kind) {
    case 'project':
      return PROJECTS_KEY;
    case 'task':
      return entry.task.id;
    case 'nodes':
      return entry.changes[0].taskId;
    case 'deleted':
      return entry.deleted.taskId;
    case 'archived':
      return entry.taskId;
  }
}

export interface CommandOptions {
  /** ms a command waits for this instance to apply its task's latest change (or its own); default 5,000 */
  readonly catchUpMs: number;
  /**
   * Group commit (default true): commands on different tasks decided while the previous group
   * commits share one transaction and one commit (one flush). False: a transaction each.
   */
  readonly group: boolean;
}

export const DEFAULT_COMMANDS: CommandOptions = { catchUpMs: 5_000, group: true };

/** A command in a group: where its entries are among the group's, and who waits for them. */
interface Member {
  readonly from: number;
  readonly count: number;
  readonly resolve: (applied: readonly JournalEntry[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One transaction shared by commands on different tasks. It takes each task's lock without
 * waiting (a task another instance holds goes its own way instead), so a group never waits for
 * a lock while holding others: no deadlock between groups or instances. It draws a transaction
 * id only in its final round trip (insert and commit), like a single command.
 */
class Group {
  readonly tasks = new Set<string>();
  readonly entries: { key: string; entry: JournalEntry }[] = [];
  readonly members: Member[] = [];
  /** explicit task ids the shared sequence must be raised past */
  readonly raise: string[] = [];
  /** commands between joining and deciding */
  pending = 0;
  /** 'open': takes members; 'closed': takes none, commits once `pending` is 0; then 'sealing', 'done' */
  state: 'open' | 'closed' | 'sealing' | 'done' = 'open';
  /** the connection failed under it: every member fails */
  broken: unknown;
  readonly done: Promise<void>;
  finish!: () => void;

  constructor(readonly tx: CommandTransaction) {
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
  }
}

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
    if (this.options.group && !('projects' in target && !('task' in target))) return this.grouped(target, decide);
    return this.alone(target, decide);
  }

  // -------------------------------------------------------------------------------------------
  // Group commit

  private open: Group | undefined;
  private opening: Promise<Group> | undefined;
  private sealing: Group | undefined;

  private async grouped<T>(
    target: Exclude<CommandTarget, { projects: true; task?: undefined }>,
    decide: (taskId: string | undefined) => T,
  ): Promise<CommandResult<T>> {
    let group: Group;
    try {
      // A task already in the open group waits for it: its decision must see the first one's change.
      for (;;) {
        group = await this.openGroup();
        if (group.state === 'open' && ('newTask' in target || !group.tasks.has(target.task))) break;
        if (group.state === 'open') await group.done;
      }
    } catch (error) {
      throw journalUnavailable(databaseReason(error));
    }
    // Counted at once: a group never commits (and hands its connection back) under a member's query.
    group.pending++;
    let counted = true;
    const leave = () => {
      if (!counted) return;
      counted = false;
      group.pending--;
      this.maybeSeal(group);
    };
    let taskId: string;
    try {
      taskId = 'newTask' in target ? await group.tx.drawTaskId() : target.task;
    } catch (error) {
      group.broken ??= error;
      leave();
      throw journalUnavailable(databaseReason(error));
    }
    const keys = [taskId, ...('newTask' in target || target.projects === true ? [PROJECTS_KEY] : [])];
    group.tasks.add(taskId);
    try {
      const { locked, head } = await group.tx.tryLock(taskId, keys);
      if (!locked) {
        // Another instance's transaction holds the task: wait for it in a transaction of its own.
        group.tasks.delete(taskId);
        leave();
        return await this.alone({ task: taskId, ...(keys.includes(PROJECTS_KEY) ? { projects: true } : {}) }, decide);
      }
      if (head !== undefined) await this.catchUp(head, taskId);
      const { value, entries } = this.sink.capture(() => decide(taskId));
      for (const e of entries) {
        if (!keys.includes(keyOf(e))) throw new UnlockedChange(keys, keyOf(e));
      }
      if (entries.length === 0) {
        leave();
        return { value, applied: [], taskId };
      }
      if (group.broken !== undefined) throw group.broken;
      if ('task' in target && entries.some((e) => e.kind === 'task')) group.raise.push(taskId);
      const applied = new Promise<readonly JournalEntry[]>((resolve, reject) => {
        group.members.push({ from: group.entries.length, count: entries.length, resolve, reject });
      });
      for (const entry of entries) group.entries.push({ key: keyOf(entry), entry });
      leave();
      return { value, applied: await applied, taskId };
    } catch (error) {
      if (!(error instanceof PipestateError) && !(error instanceof UnlockedChange)) group.broken ??= error;
      leave();
      if (error instanceof PipestateError || error instanceof UnlockedChange) throw error;
      throw journalUnavailable(databaseReason(error));
    }
  }

  /** The group taking members now (a new one, with its own connection, when there is none). */
  private openGroup(): Promise<Group> {
    if (this.open !== undefined && this.open.state === 'open') return Promise.resolve(this.open);
    this.opening ??= this.port.begin().then(
      (tx) => {
        const group = new Group(tx);
        this.open = group;
        this.opening = undefined;
        return group;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  /** groups closed to new members, oldest first, waiting for their commands to decide */
  private readonly closed: Group[] = [];

  /**
   * A group commits once none of its commands is still deciding and no other group is
   * committing, oldest first: while one group commits, the next one fills.
   */
  private maybeSeal(group: Group): void {
    if (group.pending > 0 || this.sealing !== undefined) return;
    if (group.state === 'closed' ? this.closed[0] !== group : group.state !== 'open' || this.closed.length > 0) return;
    if (group.state === 'closed') this.closed.shift();
    group.state = 'sealing';
    if (this.open === group) this.open = undefined;
    this.sealing = group;
    void this.seal(group);
  }

  /** After a commit: the oldest closed group, else the open one (closed to new members now). */
  private sealNext(): void {
    const next = this.closed[0] ?? this.open;
    if (next === undefined) return;
    if (next === this.open) {
      next.state = 'closed';
      this.open = undefined;
      this.closed.push(next);
    }
    this.maybeSeal(next);
  }

  private async seal(group: Group): Promise<void> {
    let applied: Promise<readonly JournalEntry[]> | undefined;
    let cancel = (): void => undefined;
    try {
      if (group.broken !== undefined) throw group.broken;
      if (group.entries.length === 0) {
        await group.tx.rollback();
      } else {
        for (const id of group.raise) await group.tx.raiseTaskId(id);
        const xid = await group.tx.appendAndCommit(group.entries);
        const expectation = this.follower.expect(xid, group.entries.length);
        cancel = expectation.cancel;
        applied = expectation.applied;
        this.follower.kick();
      }
    } catch (error) {
      await group.tx.rollback();
      const refusal = error instanceof PipestateError ? error : journalUnavailable(databaseReason(error));
      for (const m of group.members) m.reject(refusal);
    } finally {
      // The next group may commit now; the ones waiting for a task of this group go on.
      group.state = 'done';
      this.sealing = undefined;
      group.finish();
      this.sealNext();
    }
    if (applied === undefined) {
      for (const m of group.members) m.resolve([]);
      return;
    }
    try {
      const entries = await this.withTimeout(applied, cancel);
      for (const m of group.members) m.resolve(entries.slice(m.from, m.from + m.count));
    } catch (error) {
      for (const m of group.members) m.reject(error);
    }
  }

  private catchUp(head: Position, taskId: string | undefined): Promise<void> {
    return this.follower.until(
      head,
      this.options.catchUpMs,
      () => `the latest change of ${taskId === undefined ? 'the projects' : `task ${taskId}`} (${positionText(head)})`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // One command, one transaction

  private async alone<T>(target: CommandTarget, decide: (taskId: string | undefined) => T): Promise<CommandResult<T>> {
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
      if (head !== undefined) await this.catchUp(head, taskId);
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
        reject(
          journalUnavailable(
            `the change was journaled, but this instance did not apply it within ${ms} ms; query with min_cursor later to see it`,
          ),
        );
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
