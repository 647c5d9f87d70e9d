/**
 * A snapshot is the engine's state at one moment: a root pointer to the task vector, the count
 * of the append-only project registry, and the link of task-id removals current when it was
 * taken. Taking one is O(1); nothing reachable from it ever changes, because the store copies
 * any node a snapshot holds before writing to it, and a deleted task stays in the vectors of the
 * snapshots taken before its deletion.
 */
import type { NodeRecord } from '../lifecycle/index.js';
import { invalid, type Project } from '../model/index.js';
import { Registry, type Removals } from './registry.js';
import { historyAt, historyPageAt, recordAt, type HistoryPage, type TaskSlot, type TaskView } from './task-slot.js';
import { get, visitClasses, type Trie } from './trie.js';

const always = (): boolean => true;
/** the one class of the task vector: every task in it is live */
const LIVE = [0];

export class Snapshot {
  /** @internal the store makes snapshots; readers receive them */
  constructor(
    private readonly registry: Registry,
    private readonly tasks: Trie<TaskSlot>,
    /** live tasks */
    private readonly taskCount: number,
    /** registration numbers handed out so far: the vector's extent */
    private readonly registered: number,
    private readonly projectCount: number,
    private readonly removals: Removals,
    /** the seq of the last change this snapshot includes (0 before any): changes after it have a higher one */
    readonly cursor = 0,
    /** tasks read back from storage (the archive), answered as if they were here */
    private readonly extra?: ReadonlyMap<string, TaskView>,
  ) {}

  /**
   * This snapshot plus tasks that left memory and were read back from storage: queries about
   * them then take the same path, and answer the same shape, as about any task.
   */
  including(tasks: readonly TaskView[]): Snapshot {
    const extra = new Map(this.extra);
    for (const t of tasks) extra.set(t.task.id, t);
    return new Snapshot(this.registry, this.tasks, this.taskCount, this.registered, this.projectCount, this.removals, this.cursor, extra);
  }

  /**
   * @internal The task's definition and record vectors, for the query layer. Its typed arrays
   * cannot be frozen: treat them as read-only. Public readers use getNode and getHistory.
   *
   * The index names the live task of an id; a task this snapshot holds under that number is the
   * one it saw. Otherwise the id may have been deleted since (and even registered again): the
   * removals recorded after this snapshot was taken name the number it had.
   */
  getTask(taskId: string): TaskView | undefined {
    const live = this.at(this.registry.taskIndex.get(taskId), taskId);
    if (live !== undefined) return live;
    for (let r = this.removals.next; r !== undefined; r = r.next) {
      const slot = this.at(r.removed.get(taskId), taskId);
      if (slot !== undefined) return slot;
    }
    return this.extra?.get(taskId);
  }

  private at(n: number | undefined, taskId: string): TaskSlot | undefined {
    if (n === undefined) return undefined;
    const slot = get(this.tasks, n);
    return slot !== undefined && slot.task.id === taskId ? slot : undefined;
  }

  /** The frozen runtime record of a node (SPEC §1), or undefined when there is no such node. */
  getNode(taskId: string, nodeId: string): NodeRecord | undefined {
    const task = this.getTask(taskId);
    const i = task ? task.definition.indexOf(nodeId) : -1;
    return i < 0 ? undefined : recordAt(task!, i);
  }

  /** Ended attempts a node keeps, oldest first; undefined when there is no such node. */
  getHistory(taskId: string, nodeId: string): readonly NodeRecord[] | undefined {
    const task = this.getTask(taskId);
    const i = task ? task.definition.indexOf(nodeId) : -1;
    return i < 0 ? undefined : historyAt(task!, i);
  }

  /**
   * A page of a node's ended attempts, `offset` and `limit` counted from the newest; the page is
   * oldest first, with the total kept and the number dropped past the cap. It reads only what it
   * answers (plus the skipped `offset`) while those lie in the newest part of the history, and
   * never more than the cap; the counts are O(1). Undefined when there is no such node.
   */
  getHistoryPage(taskId: string, nodeId: string, offset = 0, limit = Number.MAX_SAFE_INTEGER): HistoryPage | undefined {
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('offset', 'must be a non-negative integer');
    if (!Number.isSafeInteger(limit) || limit < 0) throw invalid('limit', 'must be a non-negative integer');
    const task = this.getTask(taskId);
    const i = task ? task.definition.indexOf(nodeId) : -1;
    return i < 0 ? undefined : historyPageAt(task!, i, offset, limit);
  }

  getProject(projectId: string): Project | undefined {
    const i = Registry.visible(this.registry.projectIndex, projectId, this.projectCount);
    return i < 0 ? undefined : this.registry.projects[i];
  }

  /** The project bound to a CMDB business. */
  getProjectByBizId(bkBizId: string): Project | undefined {
    const i = Registry.visible(this.registry.bizIndex, bkBizId, this.projectCount);
    return i < 0 ? undefined : this.registry.projects[i];
  }

  /** Live tasks this snapshot sees. */
  get size(): number {
    return this.taskCount;
  }

  /** Every task this snapshot sees, in registration order. O(tasks), whatever was deleted before. */
  *tasksInOrder(): IterableIterator<TaskView> {
    const slots: TaskSlot[] = [];
    visitClasses(this.tasks, 0, this.registered, LIVE, always, (slot) => {
      slots.push(slot);
    });
    yield* slots;
  }

  /** Every project this snapshot sees, in registration order. */
  projectsInOrder(): readonly Project[] {
    return this.registry.projects.slice(0, this.projectCount);
  }
}
