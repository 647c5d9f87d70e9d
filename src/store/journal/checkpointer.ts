/**
 * Checkpoints bound recovery time: every `every` journal entries (and on a clean shutdown) the
 * whole state is written at one position, and the journal entries it covers are dropped but for
 * a tail of `keepChanges` changes (watchers resume across a restart from it).
 *
 * A checkpoint is of a snapshot, and a snapshot never changes: it is written in parts, each one
 * a round trip to the port, while writes go on. It waits first until its position is durable, so
 * it never holds a change the journal could still lose.
 */
import { encodeProject, taskParts } from './codec.js';
import type { GroupCommit } from './group-commit.js';
import type { JournalHold } from './hold.js';
import type { CheckpointHeader, CheckpointPart, JournalPort } from './port.js';

export interface CheckpointOptions {
  /** journal entries between checkpoints; default 100,000 */
  readonly every: number;
  /** nodes per part (bounds the time one part holds the event loop); default 4,096 */
  readonly chunk: number;
  /** node changes kept in the journal before the checkpoint, for watchers; default 10,000 */
  readonly keepChanges: number;
}

export const DEFAULT_CHECKPOINT: CheckpointOptions = { every: 100_000, chunk: 4_096, keepChanges: 10_000 };

export interface CheckpointReport {
  readonly header: CheckpointHeader;
  readonly parts: number;
  readonly seconds: number;
}

export class Checkpointer {
  private running: Promise<CheckpointReport | undefined> | undefined;
  private lastLsn: number;

  constructor(
    private readonly port: JournalPort,
    private readonly hold: JournalHold,
    private readonly commits: GroupCommit,
    private readonly options: CheckpointOptions,
    private readonly onError: (error: unknown) => void,
    startLsn: number,
  ) {
    this.lastLsn = startLsn;
  }

  /** Called as batches become durable: starts a checkpoint when enough entries have piled up. */
  written(lsn: number): void {
    if (this.running === undefined && lsn - this.lastLsn >= this.options.every) {
      this.run().catch(this.onError);
    }
  }

  /** The checkpoint in progress, or a new one; undefined when nothing changed since the last. */
  run(): Promise<CheckpointReport | undefined> {
    this.running ??= this.write().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when no checkpoint is being written (a failed one included). */
  async idle(): Promise<void> {
    await this.running?.catch(() => {});
  }

  private async write(): Promise<CheckpointReport | undefined> {
    const started = performance.now();
    const lsn = this.commits.positions.accepted;
    if (lsn === this.lastLsn) return undefined;
    const snap = this.hold.snapshot();
    const seq = this.hold.seq;
    const highestTaskId = this.hold.highestTaskId;
    await this.commits.whenPosition(lsn);
    let nodes = 0;
    for (const t of snap.tasksInOrder()) nodes += t.definition.size;
    const header: CheckpointHeader = {
      lsn,
      seq,
      projects: snap.projectsInOrder().length,
      tasks: snap.size,
      nodes,
      highestTaskId,
      takenAt: Date.now(),
    };
    let parts = 0;
    const chunk = this.options.chunk;
    async function* all(): AsyncIterable<CheckpointPart> {
      yield ['projects', snap.projectsInOrder().map(encodeProject)];
      for (const t of snap.tasksInOrder()) for (const p of taskParts(t, chunk)) yield p;
    }
    await this.port.writeCheckpoint(
      header,
      (async function* counted() {
        for await (const p of all()) {
          parts++;
          yield p;
        }
      })(),
    );
    this.lastLsn = lsn;
    await this.port.dropBefore(lsn, Math.max(0, seq - this.options.keepChanges));
    return { header, parts, seconds: (performance.now() - started) / 1000 };
  }
}
