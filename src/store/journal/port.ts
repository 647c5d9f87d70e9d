/**
 * The journal port: what the engine needs from a storage engine to be durable. The embedded
 * implementation is SQLite (sqlite/); a PostgreSQL one can take its place unchanged (issue 11).
 *
 * Everything is asynchronous, so that no implementation makes the event loop wait on a disk or
 * a network: durability is a promise (an append resolves once its batch is durable), reads are
 * async iterables. Calls arrive in order; an implementation applies them in that order.
 */
import type { Project } from '../../model/index.js';
import type { DecodedTaskPart, TaskPart } from './codec.js';
import type { JournalBatch } from './entries.js';

/** What a checkpoint is of: the state after every entry up to `lsn`. */
export interface CheckpointHeader {
  /** the last journal position it includes */
  readonly lsn: number;
  /** the engine's seq at that position: cursors continue from here */
  readonly seq: number;
  readonly projects: number;
  readonly tasks: number;
  readonly nodes: number;
  /** the highest numeric task id ever registered (deleted and archived ones are not in the checkpoint, and their ids stay used) */
  readonly highestTaskId: number;
  /** ms, wall clock: when it was taken (for people; replay never reads it) */
  readonly takenAt: number;
}

/** A checkpoint is its projects, then each task's parts. */
export type CheckpointPart = readonly ['projects', readonly unknown[]] | TaskPart;
export type DecodedCheckpointPart = { readonly kind: 'projects'; readonly projects: readonly Project[] } | DecodedTaskPart;

/** What storage holds, read once at open. */
export interface StoredState {
  /** the latest complete checkpoint, if any */
  readonly checkpoint: CheckpointHeader | undefined;
  /** the last journal position written; 0 when none */
  readonly lastLsn: number;
  readonly lastSeq: number;
}

/** A task read back from the archive. */
export interface ArchivedTask {
  readonly taskId: string;
  readonly projectId: string;
  /** ms, engine clock */
  readonly archivedAt: number;
  readonly expiresAt: number;
  readonly parts: readonly DecodedTaskPart[];
}

export interface JournalPort {
  /** where the storage is, for messages (a directory, a database URL without its password) */
  readonly location: string;
  state(): Promise<StoredState>;
  /**
   * Writes one batch atomically (an archived entry's task state and a deleted task's archive row
   * go with it). Resolves once the batch is durable under the port's sync setting; rejects when
   * it was not written at all.
   */
  append(batch: JournalBatch): Promise<void>;
  /** Batches that hold positions after `after`, oldest first; the first may start at or before it. */
  read(after: number): AsyncIterable<JournalBatch>;
  /** The parts of the latest complete checkpoint, in order. */
  readCheckpoint(): AsyncIterable<DecodedCheckpointPart>;
  /** Writes a checkpoint; once it resolves it is the latest, and durable. */
  writeCheckpoint(header: CheckpointHeader, parts: AsyncIterable<CheckpointPart>): Promise<void>;
  /**
   * Drops older checkpoints, and batches that lie wholly at or before position `lsn` and whose
   * last seq is at or below `keepSeqAbove` (the tail kept so watchers can resume across a restart).
   */
  dropBefore(lsn: number, keepSeqAbove: number): Promise<void>;
  readArchived(taskId: string): Promise<ArchivedTask | undefined>;
  /** Deletes archived tasks that expired at or before `now`; resolves with how many. */
  expireArchived(now: number): Promise<number>;
  /** A small durable write: does the storage take writes again? */
  probe(): Promise<void>;
  close(): Promise<void>;
}
