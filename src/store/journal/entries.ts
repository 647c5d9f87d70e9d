/**
 * What the journal holds: one entry per accepted change, carrying its results (DECISIONS 3).
 * Replaying the entries in order onto the checkpoint they follow rebuilds the state exactly,
 * without the clock and without drawing a version.
 *
 * Positions: every entry gets the next journal position (`lsn`, from 1). Positions are the
 * journal's own order and never repeat; an entry that is also an engine change carries its
 * `seq` (the cursor clients see) as well. Project registration and archiving have a position but
 * no seq: they are not node or task changes a watcher follows.
 */
import type { PipelineDefinition, Project, Task } from '../../model/index.js';
import type { NodeChange, TaskCreated, TaskDeleted } from '../events.js';

export type JournalEntry = ProjectEntry | TaskEntry | NodesEntry | DeletedEntry | ArchivedEntry;

export interface ProjectEntry {
  readonly kind: 'project';
  readonly project: Project;
}

export interface TaskEntry {
  readonly kind: 'task';
  readonly created: TaskCreated;
  readonly task: Task;
  readonly definition: PipelineDefinition;
}

/** One accepted operation: its changes, in seq order, the operated node first. */
export interface NodesEntry {
  readonly kind: 'nodes';
  readonly changes: readonly NodeChange[];
  /** the operated node's previous record went to its history (a retry or a re-entry) */
  readonly ended: boolean;
}

export interface DeletedEntry {
  readonly kind: 'deleted';
  readonly deleted: TaskDeleted;
}

/**
 * A task that left memory for the archive (retention): its last state is stored apart, served
 * from there until `expiresAt`, and no longer part of the live state checkpoints hold.
 */
export interface ArchivedEntry {
  readonly kind: 'archived';
  readonly taskId: string;
  readonly projectId: string;
  /** ms, engine clock: when it was archived */
  readonly at: number;
  /** ms, engine clock: after this it answers as missing */
  readonly expiresAt: number;
  /** the encoded task (codec.encodeTask); present on the way in, not read back by replay */
  readonly state?: Uint8Array;
}

/** Entries appended together: positions first..last, consecutive. */
export interface JournalBatch {
  readonly first: number;
  readonly last: number;
  /** the highest seq among its entries, or the last seq before it when none has one */
  readonly lastSeq: number;
  readonly entries: readonly JournalEntry[];
}

/** The seq an entry carries, if any. */
export function seqOf(e: JournalEntry): number | undefined {
  switch (e.kind) {
    case 'task':
      return e.created.seq;
    case 'nodes':
      return e.changes[e.changes.length - 1].seq;
    case 'deleted':
      return e.deleted.seq;
    default:
      return undefined;
  }
}
