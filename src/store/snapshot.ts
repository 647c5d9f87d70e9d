/**
 * A snapshot is the engine's state at one moment: a root pointer to the task vector and the
 * counts of the append-only registries. Taking one is O(1); nothing reachable from it ever
 * changes, because the store copies any node a snapshot holds before writing to it.
 */
import type { NodeRecord } from '../lifecycle/index.js';
import type { Project } from '../model/index.js';
import { Registry } from './registry.js';
import { historyAt, recordAt, type TaskSlot, type TaskView } from './task-slot.js';
import { get, type Trie } from './trie.js';

export class Snapshot {
  /** @internal the store makes snapshots; readers receive them */
  constructor(
    private readonly registry: Registry,
    private readonly tasks: Trie<TaskSlot>,
    private readonly taskCount: number,
    private readonly projectCount: number,
    private readonly liveTasks: number,
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
    return new Snapshot(this.registry, this.tasks, this.taskCount, this.projectCount, this.liveTasks, extra);
  }

  /**
   * @internal The task's definition and record vectors, for the query layer. Its typed arrays
   * cannot be frozen: treat them as read-only. Public readers use getNode and getHistory.
   */
  getTask(taskId: string): TaskView | undefined {
    const i = Registry.visible(this.registry.taskIndex, taskId, this.taskCount);
    const here = i < 0 ? undefined : get(this.tasks, i); // undefined too once deleted or archived
    return here ?? this.extra?.get(taskId);
  }

  /** The frozen runtime record of a node (SPEC §1), or undefined when there is no such node. */
  getNode(taskId: string, nodeId: string): NodeRecord | undefined {
    const task = this.getTask(taskId);
    const i = task ? task.definition.indexOf(nodeId) : -1;
    return i < 0 ? undefined : recordAt(task!, i);
  }

  /** Ended attempts of a node, oldest first; undefined when there is no such node. */
  getHistory(taskId: string, nodeId: string): readonly NodeRecord[] | undefined {
    const task = this.getTask(taskId);
    const i = task ? task.definition.indexOf(nodeId) : -1;
    return i < 0 ? undefined : historyAt(task!, i);
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

  /** Task count this snapshot sees (deleted and archived tasks are not counted). */
  get size(): number {
    return this.liveTasks;
  }

  /** Every task this snapshot sees, in registration order. */
  *tasksInOrder(): IterableIterator<TaskView> {
    for (let i = 0; i < this.taskCount; i++) {
      const task = get(this.tasks, i);
      if (task !== undefined) yield task;
    }
  }

  /** Every project this snapshot sees, in registration order. */
  projectsInOrder(): readonly Project[] {
    return this.registry.projects.slice(0, this.projectCount);
  }
}
