/**
 * Retention: a task done for good (its root FINISHED or REVOKED) leaves memory `archiveAfterMs`
 * after its root finished. Its last state goes to the archive, in the same journal batch that
 * records its leaving, and is answered from there, exactly as before, until `expireAfterMs`
 * after its root finished; then it is gone (3540400) and the archive forgets it.
 *
 * Leaving memory is a decision made with the clock, so it is journaled as a result (an
 * `archived` entry) and replay does not decide it again.
 */
import type { Project } from '../../model/index.js';
import { recordAt, type TaskView } from '../task-slot.js';
import { encodeTask } from './codec.js';
import type { GroupCommit } from './group-commit.js';
import { taskFromParts, type JournalHold } from './hold.js';
import type { JournalPort } from './port.js';
import type { TimerHandle, Timers } from './timers.js';

export interface RetentionOptions {
  /** ms after its root finished before a task leaves memory; default 1 day */
  readonly archiveAfterMs: number;
  /** ms after its root finished before its archived answer is gone; default 30 days */
  readonly expireAfterMs: number;
  /** ms between sweeps; default 60 s */
  readonly sweepEveryMs: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  archiveAfterMs: 24 * 3_600_000,
  expireAfterMs: 30 * 24 * 3_600_000,
  sweepEveryMs: 60_000,
};

export interface SweepReport {
  /** tasks that left memory */
  readonly archived: number;
  /** archived tasks forgotten */
  readonly expired: number;
}

const DONE = new Set(['FINISHED', 'REVOKED']);

export function checkRetention(o: RetentionOptions): void {
  for (const k of ['archiveAfterMs', 'expireAfterMs', 'sweepEveryMs'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new RangeError(`retention.${k} must be a positive whole number of ms`);
  }
  if (o.expireAfterMs <= o.archiveAfterMs) throw new RangeError('retention.expireAfterMs must be longer than retention.archiveAfterMs');
}

export class Retention {
  /** archived in memory but not yet durable: answered from here meanwhile */
  private readonly leaving = new Map<string, TaskView>();
  private timer: TimerHandle | undefined;
  private stopped = true;
  private sweeping: Promise<SweepReport> | undefined;

  constructor(
    private readonly port: JournalPort,
    private readonly hold: JournalHold,
    private readonly commits: GroupCommit,
    private readonly clock: () => number,
    private readonly projectOf: (projectId: string) => Project | undefined,
    readonly options: RetentionOptions,
  ) {
    checkRetention(options);
  }

  /** Sweeps every `sweepEveryMs` until stopped. */
  start(timers: Timers, onError: (error: unknown) => void): void {
    this.stop(timers);
    this.stopped = false;
    const next = () => {
      if (this.stopped) return;
      this.timer = timers.schedule(
        () => {
          this.sweep().catch(onError).finally(next);
        },
        this.options.sweepEveryMs,
        true,
      );
    };
    next();
  }

  stop(timers: Timers): void {
    this.stopped = true;
    if (this.timer) timers.cancel(this.timer);
    this.timer = undefined;
  }

  /** The sweep in progress, or a new one. */
  sweep(): Promise<SweepReport> {
    this.sweeping ??= this.sweepNow().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /** Resolves when no sweep is running. */
  async idle(): Promise<void> {
    await this.sweeping?.catch(() => undefined);
  }

  /** The archived task, while it has not expired. */
  async read(taskId: string): Promise<TaskView | undefined> {
    const leaving = this.leaving.get(taskId);
    if (leaving !== undefined) return leaving;
    const row = await this.port.readArchived(taskId);
    if (row === undefined || row.expiresAt <= this.clock()) return undefined;
    return taskFromParts(row.parts, this.projectOf);
  }

  private async sweepNow(): Promise<SweepReport> {
    const now = this.clock();
    const due: { view: TaskView; finishedAt: number }[] = [];
    for (const view of this.hold.snapshot().tasksInOrder()) {
      const root = recordAt(view, 0);
      if (DONE.has(root.state) && root.finished_at !== null && root.finished_at + this.options.archiveAfterMs <= now) {
        due.push({ view, finishedAt: root.finished_at });
      }
    }
    let archived = 0;
    for (const { view, finishedAt } of due) {
      const state = await encodeTask(view);
      // Changed while it was being encoded (a root re-entered, a deletion): leave it for the next sweep.
      if (this.hold.task(view.task.id) !== view) continue;
      if (this.commits.unavailable !== undefined) break;
      this.commits.admit();
      const at = this.clock();
      this.hold.removeTask(view.task.id, undefined);
      this.leaving.set(view.task.id, view);
      this.commits.archived({
        kind: 'archived',
        taskId: view.task.id,
        projectId: view.task.project_id,
        at,
        expiresAt: finishedAt + this.options.expireAfterMs,
        state,
      });
      const settled = () => {
        this.leaving.delete(view.task.id);
      };
      this.commits.durable().then(settled, settled);
      archived++;
    }
    const expired = await this.port.expireArchived(now);
    return { archived, expired };
  }
}
