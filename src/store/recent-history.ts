/**
 * The newest ended attempts of a node, without walking all of them: a history is a cons list,
 * newest first, so the newest `max` are its first `max` cells. Retries are not bounded by the
 * rerun limit, so a node's whole history can be long; an overview (the web view's timeline) asks
 * for a bounded slice and whether there is more.
 */
import type { NodeRecord } from '../lifecycle/index.js';
import type { TaskView } from './task-slot.js';
import { get } from './trie.js';

export interface RecentHistory {
  /** at most `max` ended attempts, oldest first */
  readonly attempts: NodeRecord[];
  /** older attempts exist beyond these */
  readonly more: boolean;
}

export function recentHistoryAt(t: TaskView, i: number, max: number): RecentHistory {
  const attempts: NodeRecord[] = [];
  let h = get(t.histories, i);
  for (; h !== undefined && attempts.length < max; h = h.previous) attempts.push(h.attempt);
  return { attempts: attempts.reverse(), more: h !== undefined };
}
