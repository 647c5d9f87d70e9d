/**
 * The journal's hold on the store, from `store.attachJournal(sink)`. Three uses:
 *
 * - Replay: put back what the journal holds (a checkpoint's tasks, then each entry), without
 *   deciding anything: no clock, no versions, no lifecycle check. Each entry is checked against
 *   the state it lands on (the node is where the entry says it came from), so a journal that does
 *   not follow from its checkpoint is refused, never replayed into a wrong state.
 * - Rollback: `mark()` at each batch boundary is O(1) (a snapshot: the immutable tree is the
 *   undo log), and `restore(mark)` puts the store back there when a batch cannot be written.
 * - Delivery: `node_durable` events, once a batch is durable.
 */
import { initialRecord } from '../../lifecycle/index.js';
import type { PipelineDefinition, Project, Task } from '../../model/index.js';
import { DEFAULT_QUOTA, ProjectUsage, TaskUsage } from '../quota.js';
import { ROLLUP_CLASSES, recordClass } from '../rollup.js';
import type { NodeChange } from '../events.js';
import { historyOf, type History } from '../history.js';
import type { Snapshot } from '../snapshot.js';
import { recordAt, slotUnder, type TaskSlot, type TaskView } from '../task-slot.js';
import { NO_CLASS, emptyTrie, get, set, type Edit, type Trie } from '../trie.js';
import { TaskAssembler, type DecodedTaskPart } from './codec.js';
import type { JournalEntry } from './entries.js';
import type { ChangeSink, ReplayedMove, StoreInternals } from './sink.js';

type FillPart = Extract<DecodedTaskPart, { kind: 'records' | 'histories' }>;

/** The store at a batch boundary. */
export interface StoreMark {
  readonly tasks: Trie<TaskSlot>;
  readonly registered: number;
  readonly taskCount: number;
  readonly seq: number;
  readonly projectCount: number;
  readonly highestTaskId: number;
}

/** Replay found the journal at odds with the state it leads to. */
export class ReplayMismatch extends Error {
  override readonly name = 'ReplayMismatch';
}

export class JournalHold {
  constructor(
    private readonly s: StoreInternals,
    readonly rerunLimit: number,
  ) {}

  /** Every change accepted from now on goes to `sink` (replay is over). */
  connect(sink: ChangeSink): void {
    this.s.connect(sink);
  }

  // -------------------------------------------------------------------------------------------
  // Rollback

  mark(): StoreMark {
    this.s.snapshot(); // from here on the marked tree is copied before it changes: it stays as it is
    return this.s.mark();
  }

  /**
   * Puts the store back at `mark`. `discarded` are the entries accepted after it (never
   * durable); the store rebuilds its indexes and quota usage from the marked tree.
   */
  restore(mark: StoreMark, _discarded: readonly JournalEntry[]): void {
    this.s.restore(mark);
  }

  // -------------------------------------------------------------------------------------------
  // Delivery

  publishDurable(changes: readonly NodeChange[]): void {
    if (!this.s.listening('node_durable')) return;
    for (const c of changes) this.s.publish('node_durable', c);
  }

  // -------------------------------------------------------------------------------------------
  // Replay

  get seq(): number {
    return this.s.seq;
  }

  /** The state now, immutable: what a checkpoint writes. */
  snapshot(): Snapshot {
    return this.s.snapshot();
  }

  /** A checkpoint's seq (the entries after it continue from here) and its highest task id ever. */
  startAt(seq: number, highestTaskId: number): void {
    this.s.seq = seq;
    this.s.highestTaskId = highestTaskId;
  }

  /** The highest numeric task id ever registered (see Registry). */
  get highestTaskId(): number {
    return this.s.highestTaskId;
  }

  /** A registered project (projects never leave). */
  project(projectId: string): Project | undefined {
    const i = this.s.registry.projectIndex.get(projectId);
    return i === undefined ? undefined : this.s.registry.projects[i];
  }

  /** The live task, for a checkpoint of it or a check. */
  task(taskId: string): TaskView | undefined {
    const n = this.s.registry.taskIndex.get(taskId);
    return n === undefined ? undefined : get(this.s.tasks, n);
  }

  replay(e: JournalEntry): void {
    switch (e.kind) {
      case 'project':
        this.addProject(e.project);
        return;
      case 'task':
        this.addTask(e.task, e.definition, e.created.seq);
        return;
      case 'nodes':
        this.replayNodes(e.changes, e.ended);
        return;
      case 'deleted':
        this.removeTask(e.deleted.taskId, e.deleted.seq);
        return;
      case 'archived':
        this.removeTask(e.taskId, undefined);
        return;
    }
  }

  addProject(project: Project): void {
    const { projectIndex, bizIndex } = this.s.registry;
    if (projectIndex.has(project.id) || (project.bk_biz_id !== null && bizIndex.has(project.bk_biz_id))) {
      throw new ReplayMismatch(`project ${project.id} is registered twice`);
    }
    this.s.addProject(project);
  }

  /** Registers a task as the journal recorded it; `seq` undefined when a checkpoint restores it. */
  addTask(task: Task, definition: PipelineDefinition, seq: number | undefined): void {
    const { registry } = this.s;
    if (!registry.projectIndex.has(task.project_id))
      throw new ReplayMismatch(`task ${task.id} names project ${task.project_id}, which is not registered`);
    if (registry.taskIndex.has(task.id)) throw new ReplayMismatch(`task ${task.id} is registered twice`);
    if (seq !== undefined) this.advance(seq, seq);
    this.s.register(task, definition);
  }

  /** A checkpoint's records and histories of a task just added. */
  fillTask(part: FillPart): void {
    const n = this.s.registry.taskIndex.get(part.taskId);
    const slot = n === undefined ? undefined : get(this.s.tasks, n);
    if (slot === undefined) throw new ReplayMismatch(`the checkpoint holds records of task ${part.taskId} before the task`);
    const size = slot.definition.size;
    if (part.kind === 'records') {
      const moves: ReplayedMove[] = [];
      part.records.forEach((r, k) => {
        const i = part.start + k;
        if (r === undefined) return;
        if (i >= size) throw new ReplayMismatch(`task ${part.taskId} has no node number ${i}`);
        moves.push({ index: i, from: recordAt(slot, i), to: r, ended: false });
      });
      this.s.write(n!, moves);
      return;
    }
    for (const [i, attempts, dropped] of part.histories) {
      if (i >= size) throw new ReplayMismatch(`task ${part.taskId} has no node number ${i}`);
      const h: History | undefined = historyOf(attempts, dropped);
      if (h !== undefined) this.s.fillHistory(n!, i, h);
    }
  }

  private replayNodes(changes: readonly NodeChange[], ended: boolean): void {
    const { taskId } = changes[0];
    const n = this.s.registry.taskIndex.get(taskId);
    const slot = n === undefined ? undefined : get(this.s.tasks, n);
    if (slot === undefined) throw new ReplayMismatch(`change ${changes[0].seq} names task ${taskId}, which is not in memory`);
    const moves: ReplayedMove[] = [];
    for (let k = 0; k < changes.length; k++) {
      const c = changes[k];
      const i = slot.definition.indexOf(c.nodeId);
      if (i < 0) throw new ReplayMismatch(`change ${c.seq} names node ${c.nodeId}, which task ${taskId} does not have`);
      const before = recordAt(slot, i);
      if (before.state !== c.from) {
        throw new ReplayMismatch(`change ${c.seq} moves node ${c.nodeId} of task ${taskId} from ${c.from}, but it is ${before.state}`);
      }
      moves.push({ index: i, from: before, to: c.record, ended: k === 0 && ended });
    }
    this.advance(changes[0].seq, changes[changes.length - 1].seq);
    this.s.write(n!, moves);
  }

  /** Takes a task out of memory: deleted (with its seq) or archived (without one). */
  removeTask(taskId: string, seq: number | undefined): void {
    const n = this.s.registry.taskIndex.get(taskId);
    if (n === undefined || get(this.s.tasks, n) === undefined) throw new ReplayMismatch(`task ${taskId} leaves memory but is not in it`);
    if (seq !== undefined) this.advance(seq, seq);
    this.s.remove(n);
  }

  /**
   * An entry's seqs: they continue the last one without a gap (every seq the store hands out is
   * journaled, and a rolled-back one is handed out again), so a gap means an entry is missing.
   */
  private advance(first: number, last: number): void {
    if (first !== this.s.seq + 1) throw new ReplayMismatch(`the journal goes from seq ${this.s.seq} to seq ${first}: changes are missing`);
    this.s.seq = last;
  }
}

/** A task slot outside the store (read back from the archive): its usage counts against nothing. */
function standaloneTask(task: Task, project: Project, definition: PipelineDefinition, edit: Edit): TaskSlot {
  return slotUnder(
    {
      task,
      project,
      definition,
      initial: initialRecord(task.created_at),
      records: emptyTrie(definition.size, ROLLUP_CLASSES),
      histories: emptyTrie(definition.size),
      usage: new TaskUsage(new ProjectUsage(project.id, DEFAULT_QUOTA)),
      edit,
    },
    edit,
  );
}

function fillStandalone(slot: TaskSlot, part: FillPart, edit: Edit): void {
  const def = slot.definition;
  if (part.kind === 'records') {
    part.records.forEach((r, k) => {
      const i = part.start + k;
      if (r === undefined) return;
      if (i >= def.size) throw new ReplayMismatch(`task ${part.taskId} has no node number ${i}`);
      slot.records = set(slot.records, i, r, edit, NO_CLASS, recordClass(def, i, r));
    });
    return;
  }
  for (const [i, attempts, dropped] of part.histories) {
    if (i >= def.size) throw new ReplayMismatch(`task ${part.taskId} has no node number ${i}`);
    const h = historyOf(attempts, dropped);
    if (h !== undefined) slot.histories = set(slot.histories, i, h, edit);
  }
}

/**
 * A task read back from the archive, standing alone (not registered in the store): the same
 * view the query layer reads, so its answers have exactly the shape they had in memory.
 */
export function taskFromParts(parts: readonly DecodedTaskPart[], projectOf: (projectId: string) => Project | undefined): TaskView {
  const edit: Edit = {};
  let slot: TaskSlot | undefined;
  const assembler = new TaskAssembler(
    (task, definition) => {
      if (slot !== undefined) throw new ReplayMismatch(`archived task ${slot.task.id} holds another task`);
      const project = projectOf(task.project_id);
      if (project === undefined)
        throw new ReplayMismatch(`archived task ${task.id} names project ${task.project_id}, which is not registered`);
      slot = standaloneTask(task, project, definition, edit);
    },
    (part) => {
      if (slot === undefined || part.taskId !== slot.task.id)
        throw new ReplayMismatch(`archived task ${part.taskId} holds parts of another task`);
      fillStandalone(slot, part, edit);
    },
  );
  for (const part of parts) assembler.push(part);
  assembler.end();
  if (slot === undefined) throw new ReplayMismatch('an archived task holds no task');
  return slot;
}
