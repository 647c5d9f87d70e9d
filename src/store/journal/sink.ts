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
import type { Edit, Trie } from '../trie.js';

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

/**
 * The store's state as the journal's hold reads and writes it. Accessors over the store's own
 * fields, so the store keeps one copy of its state and the hold's code lives apart from it.
 */
export interface StoreInternals {
  readonly registry: Registry;
  tasks: Trie<TaskSlot>;
  /** tasks ever registered in this process (numbers are never reused) */
  taskCount: number;
  /** tasks in memory now (neither deleted nor archived) */
  liveTasks: number;
  seq: number;
  readonly edit: Edit;
  /** from now on every accepted change goes to `sink` first */
  connect(sink: ChangeSink): void;
  /** O(1); from here on, nodes reachable from the returned snapshot are copied before they change */
  snapshot(): Snapshot;
  /** the next snapshot() must see a change */
  changed(): void;
  /** frees a task's slot (its id stays indexed for older snapshots) */
  removeTask(number: number): void;
  publish<E extends EngineEventName>(event: E, payload: EngineEvents[E][0]): void;
  listening(event: EngineEventName): boolean;
}
