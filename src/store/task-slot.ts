/**
 * One registered task as a snapshot holds it: the shared definition, and the persistent vectors
 * of its runtime records and attempt histories, both indexed by preorder number.
 */
import { ACTIVE, type NodeRecord } from '../lifecycle/index.js';
import type { PipelineDefinition, Project, Task } from '../model/index.js';
import { allAttempts, historyPage, type History } from './history.js';
import type { TaskUsage } from './quota.js';
import { ACTIVE_CLASSES } from './rollup.js';
import { get, visitClasses, type Edit, type Trie } from './trie.js';

export interface TaskSlot {
  readonly task: Task;
  readonly project: Project;
  readonly definition: PipelineDefinition;
  /** the record every node has before its first change */
  readonly initial: NodeRecord;
  /** counted by state and kind (rollup.ts), so a subtree's counts and activity are range queries */
  records: Trie<NodeRecord>;
  /** each node's ended attempts, capped (history.ts) */
  histories: Trie<History>;
  /**
   * what the task holds now, for its project's quotas: live counters shared by every copy of the
   * slot, not part of what a snapshot shows
   */
  readonly usage: TaskUsage;
  /** the edit token this slot object was made under: only then may the store change it in place */
  edit: Edit;
}

/**
 * The slot as it will be written under `edit`: a copy whose fields are listed (not spread), so
 * every slot shares one hidden class and the copy stays a handful of stores.
 */
export const slotUnder = (s: TaskSlot, edit: Edit): TaskSlot => ({
  task: s.task,
  project: s.project,
  definition: s.definition,
  initial: s.initial,
  records: s.records,
  histories: s.histories,
  usage: s.usage,
  edit,
});

/** A task as a reader sees it: nothing in it changes. */
export type TaskView = Readonly<TaskSlot>;

export const recordAt = (t: TaskView, i: number): NodeRecord => get(t.records, i) ?? t.initial;

export const isActive = (r: NodeRecord): boolean => ACTIVE.has(r.state);

/** Ended attempts of node i that it keeps, oldest first. */
export const historyAt = (t: TaskView, i: number): NodeRecord[] => allAttempts(get(t.histories, i));

/** One page of node i's ended attempts, counted from the newest, and the counts of the whole. */
export interface HistoryPage {
  /** oldest first */
  readonly attempts: NodeRecord[];
  /** attempts the node keeps */
  readonly total: number;
  /** attempts dropped, oldest first, to keep the total within the cap */
  readonly dropped: number;
}

/** Attempts at positions [offset, offset + limit) counted from the newest: O(offset + limit) reads, counts in O(1). */
export function historyPageAt(t: TaskView, i: number, offset: number, limit: number): HistoryPage {
  const h = get(t.histories, i);
  return { attempts: historyPage(h, offset, limit), total: h?.count ?? 0, dropped: h?.dropped ?? 0 };
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
