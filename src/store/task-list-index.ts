/**
 * The tasks of each project by the stored state of their root, for listing (get_task_list):
 * how many tasks of a project have their root in any set of states, and which one is the k-th of
 * them in registration order, without looking at the others.
 *
 * Per project: its tasks in registration order (positions), each position's root state, and per
 * state a Fenwick tree over the positions (1 where the task's root is in that state). A count
 * is a sum of per-state totals; the k-th task among a set of states is a descent of the Fenwick
 * trees of those states together: O(states · log n). A root that moves updates two trees:
 * O(log n). The store keeps it current as it registers tasks and commits root moves, so it
 * answers for the store's latest state (which is what a request-shaped query reads).
 */
import { STATES, type State } from '../lifecycle/index.js';

const STATE_CODE: ReadonlyMap<State, number> = new Map(STATES.map((s, i) => [s, i]));
/** a position whose task was removed */
const GONE = -1;

/** A set of root states, as a bit mask over STATES. */
export type StateMask = number;
export const ALL_STATES: StateMask = (1 << STATES.length) - 1;
export const maskOf = (states: Iterable<State>): StateMask => {
  let mask = 0;
  for (const s of states) mask |= 1 << STATE_CODE.get(s)!;
  return mask;
};

/** What get_task_list reads of one project. */
export interface ProjectTaskList {
  /** tasks whose root is in one of the states */
  count(states: StateMask): number;
  /** the id of the `rank`-th task (0 = newest) whose root is in one of the states */
  newest(states: StateMask, rank: number): string | undefined;
  /** Calls `visit` with each task, newest first, until it returns true. */
  scanNewestFirst(visit: (id: string, name: string, state: State) => boolean | void): void;
}

class ProjectTasks implements ProjectTaskList {
  private readonly ids: string[] = [];
  private readonly names: string[] = [];
  private readonly states: number[] = [];
  private readonly totals = new Array<number>(STATES.length).fill(0);
  private capacity = 0;
  /** trees[s][p] (1-based p): Fenwick sums of "task at position p-1 has its root in state s" */
  private trees: Int32Array[] = [];

  add(id: string, name: string, state: State): number {
    const position = this.ids.length;
    if (position === this.capacity) this.grow();
    this.ids.push(id);
    this.names.push(name);
    this.states.push(GONE);
    this.setState(position, STATE_CODE.get(state)!);
    return position;
  }

  move(position: number, to: State): void {
    this.setState(position, STATE_CODE.get(to)!);
  }

  remove(position: number): void {
    this.setState(position, GONE);
  }

  count(states: StateMask): number {
    let n = 0;
    for (let s = 0; s < STATES.length; s++) if ((states & (1 << s)) !== 0) n += this.totals[s];
    return n;
  }

  newest(states: StateMask, rank: number): string | undefined {
    const total = this.count(states);
    if (!Number.isInteger(rank) || rank < 0 || rank >= total) return undefined;
    return this.ids[this.select(states, total - 1 - rank)];
  }

  scanNewestFirst(visit: (id: string, name: string, state: State) => boolean | void): void {
    for (let p = this.ids.length - 1; p >= 0; p--) {
      const s = this.states[p];
      if (s !== GONE && visit(this.ids[p], this.names[p], STATES[s])) return;
    }
  }

  /**
   * Position of the k-th (0-based, oldest first) task whose root is in `states`, for k below their
   * count: the Fenwick descent. The capacity is a power of two and the answer is below it, so the
   * descent starts at half of it and never steps past it.
   */
  private select(states: StateMask, k: number): number {
    const trees = this.trees.filter((_, s) => (states & (1 << s)) !== 0);
    let position = 0;
    let remaining = k + 1;
    for (let step = this.capacity >> 1; step > 0; step >>= 1) {
      const next = position + step;
      let sum = 0;
      for (const t of trees) sum += t[next];
      if (sum < remaining) {
        position = next;
        remaining -= sum;
      }
    }
    return position;
  }

  private setState(position: number, code: number): void {
    const from = this.states[position];
    if (from !== GONE) this.update(from, position, -1);
    if (code !== GONE) this.update(code, position, +1);
    this.states[position] = code;
  }

  private update(state: number, position: number, delta: number): void {
    this.totals[state] += delta;
    const tree = this.trees[state];
    for (let p = position + 1; p <= this.capacity; p += p & -p) tree[p] += delta;
  }

  /**
   * Doubles the capacity (a power of two, at least 64) and rebuilds every tree from the states, in
   * O(capacity) each: each position adds its sum to its Fenwick parent p + (p & -p), which for
   * p below a power of two is at most that power.
   */
  private grow(): void {
    this.capacity = Math.max(64, this.capacity * 2);
    this.trees = STATES.map((_, s) => {
      const tree = new Int32Array(this.capacity + 1);
      for (let p = 1; p <= this.states.length; p++) if (this.states[p - 1] === s) tree[p] = 1;
      for (let p = 1; p < this.capacity; p++) tree[p + (p & -p)] += tree[p];
      return tree;
    });
  }
}

export class TaskListIndex {
  private readonly projects = new Map<string, ProjectTasks>();
  private readonly where = new Map<string, { readonly tasks: ProjectTasks; readonly position: number }>();

  /** A task was registered: its root is CREATED. */
  registered(taskId: string, projectId: string, name: string): void {
    let tasks = this.projects.get(projectId);
    if (tasks === undefined) {
      tasks = new ProjectTasks();
      this.projects.set(projectId, tasks);
    }
    this.where.set(taskId, { tasks, position: tasks.add(taskId, name, 'CREATED') });
  }

  /** A task's root moved to `to`. */
  rootMoved(taskId: string, to: State): void {
    const w = this.where.get(taskId);
    if (w !== undefined) w.tasks.move(w.position, to);
  }

  /** A task is gone (deleted): it is no longer listed or counted. */
  removed(taskId: string): void {
    const w = this.where.get(taskId);
    if (w === undefined) return;
    w.tasks.remove(w.position);
    this.where.delete(taskId);
  }

  /** Forgets every task (the store rebuilds the index after a journal rollback). */
  clear(): void {
    this.projects.clear();
    this.where.clear();
  }

  /** The project's list; undefined when it has never had a task. */
  project(projectId: string): ProjectTaskList | undefined {
    return this.projects.get(projectId);
  }
}
