/**
 * The store's side of durability: what it tells a journal as it changes (ChangeSink), and the
 * hold a journal gets on the store in return (StoreInternals, used by hold.ts), to replay what
 * was journaled and to roll back what could not be written.
 *
 * The store calls the sink synchronously, in the order it accepts changes, with the results of
 * each one (records, times, versions): the journal writes results, never decisions, so replay
 * needs neither the clock nor fresh versions.
 */
import type { PipelineDefinition, Project, Task } from '../../model/index.js';
import type { EngineEventName, EngineEvents, NodeChange, TaskCreated, TaskDeleted } from '../events.js';
import type { Registry } from '../registry.js';
import type { Snapshot } from '../snapshot.js';
import type { TaskSlot } from '../task-slot.js';
import type { History } from '../history.js';
import type { NodeRecord } from '../../lifecycle/index.js';
import type { StoreMark } from './hold.js';
import type { Trie } from '../trie.js';

export interface ChangeSink {
  /**
   * Called before the store changes anything for a write. Throws a PipestateError (3599999,
   * "journal unavailable") when the journal cannot take a change now; the store is then left
   * exactly as it was.
   */
  admit(): void;
  project(project: Project): void;
  task(created: TaskCreated, task: Task, definition: PipelineDefinition): void;
  /**
   * One accepted operation: its changes in seq order (the operated node first). `ended`: the
   * operated node's previous record went to its history (a retry, a re-entry). Only single-node
   * operations end an attempt, so one flag says it.
   */
  nodes(changes: readonly NodeChange[], ended: boolean): void;
  deleted(deleted: TaskDeleted): void;
  /** Resolves once the change with this seq (and every one before it) is durable. */
  whenDurable(cursor: number): Promise<void>;
  /** Resolves once everything accepted so far is durable. */
  durable(): Promise<void>;
  /** Where changes go, under which mode, and whether they are accepted now. */
  status(): JournalStatus;
}

export interface JournalStatus {
  /** where the journal is (a directory; a database without its password) */
  readonly storage: string;
  readonly mode: string;
  /** "ok", or why writes are refused */
  readonly journal: string;
  /** journal positions: accepted so far, and durable */
  readonly accepted: number;
  readonly durable: number;
}

/** A node's move as the journal recorded it, for the store to write without deciding it again. */
export interface ReplayedMove {
  readonly index: number;
  readonly from: NodeRecord;
  readonly to: NodeRecord;
  /** the move ended an attempt: `from` goes to the node's history */
  readonly ended: boolean;
}

/**
 * The store's state as the journal's hold reads and writes it: accessors over the store's own
 * fields, and the store's own writers, so that a replayed change is counted exactly as an
 * accepted one (roll-up classes, the root-state index, capped histories, quota usage) and the
 * hold's code lives apart from the store.
 */
export interface StoreInternals {
  readonly registry: Registry;
  readonly tasks: Trie<TaskSlot>;
  seq: number;
  /** the highest numeric task id ever registered; setting it only ever raises it */
  highestTaskId: number;
  /** from now on every accepted change goes to `sink` first */
  connect(sink: ChangeSink): void;
  /** O(1); from here on, nodes reachable from the returned snapshot are copied before they change */
  snapshot(): Snapshot;
  addProject(project: Project): void;
  /** registers a task (its usage and root-state entry too); returns its slot */
  register(task: Task, definition: PipelineDefinition): TaskSlot;
  /** writes recorded moves into task `number` */
  write(number: number, moves: readonly ReplayedMove[]): void;
  /** a checkpoint's history of one node of task `number` */
  fillHistory(number: number, index: number, history: History): void;
  /** takes task `number` out of memory (deleted or archived), giving back its usage */
  remove(number: number): void;
  /** where the store is now, to be put back to */
  mark(): StoreMark;
  /** puts the store back at a mark, derived indexes and usage rebuilt */
  restore(mark: StoreMark): void;
  publish<E extends EngineEventName>(event: E, payload: EngineEvents[E][0]): void;
  listening(event: EngineEventName): boolean;
}
