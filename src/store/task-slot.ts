/**
 * One registered task as a snapshot holds it: the shared definition, and the persistent vectors
 * of its runtime records and attempt histories, both indexed by preorder number.
 */
import { ACTIVE, type NodeRecord } from '../lifecycle/index.js';
import type { PipelineDefinition, Project, Task } from '../model/index.js';
import { ACTIVE_CLASSES } from './rollup.js';
import { get, visitClasses, type Edit, type Trie } from './trie.js';

/** Ended attempts of one node, newest first, as a cons list: pushing one is O(1). */
export interface History {
  readonly attempt: NodeRecord;
  readonly previous: History | undefined;
}

export interface TaskSlot {
  readonly task: Task;
  readonly project: Project;
  readonly definition: PipelineDefinition;
  /** the record every node has before its first change */
  readonly initial: NodeRecord;
  /** counted by state and kind (rollup.ts), so a subtree's counts and activity are range queries */
  records: Trie<NodeRecord>;
  histories: Trie<History>;
  /** the edit token this slot object was made under: only then may the store change it in place */
  edit: Edit;
}

/**
 * The slot as it will be written under `edit`: a copy whose fields are listed (not spread), so
 * every slot shares one hidden class and the copy stays a handful of stores.
 */
export const slotUnder = (s: TaskSlot, edit: Edit): TaskSlot => ({
  task: s.task, project: s.project, definition: s.definition, initial: s.initial,
  records: s.records, histories: s.histories, edit,
});

/** A task as a reader sees it: nothing in it changes. */
export type TaskView = Readonly<TaskSlot>;

export const recordAt = (t: TaskView, i: number): NodeRecord => get(t.records, i) ?? t.initial;

export const isActive = (r: NodeRecord): boolean => ACTIVE.has(r.state);

/** Ended attempts of node i, oldest first. */
export function historyAt(t: TaskView, i: number): NodeRecord[] {
  const out: NodeRecord[] = [];
  for (let h = get(t.histories, i); h !== undefined; h = h.previous) out.push(h.attempt);
  return out.reverse();
}

/** The first descendant of node i that is RUNNING, READY or SUSPENDED, or -1. */
export function firstActiveDescendant(t: TaskView, i: number): number {
  if (t.definition.end[i] === i + 1) return -1; // a leaf, or a container without children
  let found = -1;
  visitClasses(t.records, i + 1, t.definition.end[i], ACTIVE_CLASSES, isActive, (_, j) => {
    found = j;
    return true;
  });
  return found;
}
