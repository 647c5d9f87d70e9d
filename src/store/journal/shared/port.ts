/**
 * The journal port for several writers (issue 11), beside the single-writer JournalPort of
 * port.ts, which stays as it is (SQLite implements it).
 *
 * What changes when several processes write one journal:
 * - Positions are assigned by the storage when a transaction writes, not by the writer (no
 *   process can know what the others append). A position is `(xid, n)` (position.ts), and seqs,
 *   the cursors clients see, are assigned by each follower as it applies entries in position
 *   order: every instance applies the same entries in the same order, so assigns the same seqs.
 * - A command is decided inside a storage transaction that holds its task's lock: the writer
 *   learns the task's latest position (`head`), brings its memory up to it, decides, appends and
 *   commits. Tasks lock apart, so writes to different tasks never wait for each other.
 * - Reading is "everything after a position that can no longer be preceded by a later commit":
 *   the storage holds back entries of transactions that may still be followed by an earlier one.
 *
 * Checkpoints, the archive and expiry keep the meaning they have in JournalPort, at a Position.
 */
import type { DecodedCheckpointPart, CheckpointPart } from '../port.js';
import type { DecodedTaskPart } from '../codec.js';
import type { JournalEntry } from '../entries.js';
import type { Position } from './position.js';

export interface JournalRow {
  readonly position: Position;
  /** as the writer decided it; its seqs are not meaningful until a follower numbers it */
  readonly entry: JournalEntry;
}

export interface ReadResult {
  /** rows after the asked position, in journal order; none that a later commit could precede */
  readonly rows: readonly JournalRow[];
  /** rows at or before this were dropped (after a checkpoint); undefined when none were */
  readonly floor: Position | undefined;
}

export interface SharedCheckpoint {
  readonly id: number;
  readonly position: Position;
  /** the seq of the last change at that position: cursors continue from it */
  readonly seq: number;
  /** entries applied up to that position (a count, for checkpoint cadence) */
  readonly entries: number;
  readonly projects: number;
  readonly tasks: number;
  readonly nodes: number;
  /** the highest numeric task id ever registered up to that position (deleted and archived ones too) */
  readonly highestTaskId: number;
  /** ms, wall clock */
  readonly takenAt: number;
}

export interface ArchivedRow {
  readonly taskId: string;
  readonly projectId: string;
  readonly archivedAt: number;
  readonly expiresAt: number;
  readonly parts: readonly DecodedTaskPart[];
}

/** One command's storage transaction. */
export interface CommandTransaction {
  /**
   * Takes the lock of `key` (a task id) for the rest of the transaction, then reads the latest
   * position of any of `keys` ('' names project registrations); undefined when none is kept.
   */
  lock(key: string, keys: readonly string[]): Promise<Position | undefined>;
  /** As lock, but without waiting: `locked` false when another transaction holds it. */
  tryLock(key: string, keys: readonly string[]): Promise<{ readonly locked: boolean; readonly head: Position | undefined }>;
  /** A task id no instance has drawn before. */
  drawTaskId(): Promise<string>;
  /** Raises the shared id sequence to at least `id` (an embedder chose it). */
  raiseTaskId(id: string): Promise<void>;
  /** Writes entries (each under its key) and an archived entry's state, and commits; resolves with the transaction id. */
  appendAndCommit(entries: readonly { readonly key: string; readonly entry: JournalEntry }[]): Promise<bigint>;
  /** Writes entries without committing (tests hold transactions open with it); resolves with the transaction id. */
  append(entries: readonly { readonly key: string; readonly entry: JournalEntry }[]): Promise<bigint>;
  commit(): Promise<void>;
  /** Ends the transaction without writing; never throws. */
  rollback(): Promise<void>;
}

/** A lease one instance holds at a time (checkpoints, retention); lost when its holder dies. */
export interface Lease {
  readonly held: boolean;
  release(): Promise<void>;
}

export interface SharedJournalPort {
  /** where it is, for messages: the database URL without its password, and the schema */
  readonly location: string;
  read(after: Position, limit: number): Promise<ReadResult>;
  begin(): Promise<CommandTransaction>;
  /** `onAppend` is called (best effort) when another writer commits; resolves with a stop function. */
  listen(onAppend: () => void, onLost: (error: unknown) => void): Promise<() => Promise<void>>;
  latestCheckpoint(): Promise<SharedCheckpoint | undefined>;
  readCheckpoint(id: number): AsyncIterable<DecodedCheckpointPart>;
  writeCheckpoint(header: Omit<SharedCheckpoint, 'id'>, parts: AsyncIterable<CheckpointPart>): Promise<SharedCheckpoint>;
  /** Drops checkpoints older than `keep` and journal rows at or before `floor`. */
  dropBefore(keep: SharedCheckpoint, floor: Position): Promise<void>;
  /** Tries to take the lease `name`; `held` says whether it did. */
  lease(name: string): Promise<Lease>;
  readArchived(taskId: string): Promise<ArchivedRow | undefined>;
  expireArchived(now: number): Promise<number>;
  close(): Promise<void>;
}
