/**
 * Roll-ups: how many nodes of a subtree are in each state, and how many of its leaves have
 * finished, kept up to date as operations apply rather than counted when asked.
 *
 * The records trie of a task counts its values by class (trie.ts). A record's class is its
 * stored state and whether its node is a leaf or a container: 6 states (CREATED records are never
 * stored: a node in CREATED has no record in the trie) × 2 kinds = 12 classes. A write says which
 * class it removes and which it adds, so each operation updates the counts on the trie path it
 * copies anyway. A subtree is a preorder range [i, end[i]); its counts are summed from whole trie
 * nodes inside the range, descending only along its two edges (O(32 · 12 · trie depth), the
 * same for a leaf as for a subtree of a million nodes). CREATED is what the range holds minus
 * what the trie counts: the number of leaves in a range comes from prefix sums over the
 * definition, computed once per task.
 */
import { ACTIVE, STATES, type NodeRecord, type State } from '../lifecycle/index.js';
import { TRAIT_CONTAINER, type PipelineDefinition } from '../model/index.js';
import type { TaskView } from './task-slot.js';
import { NO_CLASS, countClasses } from './trie.js';

/** Stored states: every state but CREATED. */
const STORED: readonly State[] = STATES.filter((s) => s !== 'CREATED');
const CONTAINER_OFFSET = STORED.length;

/** Classes the records trie counts: leaves in each stored state, then containers in each. */
export const ROLLUP_CLASSES = 2 * STORED.length;

const STATE_CLASS: Readonly<Record<State, number>> = Object.freeze(
  Object.fromEntries(STATES.map((s) => [s, STORED.indexOf(s)])) as Record<State, number>,
);

/** The class of node i's record: NO_CLASS for CREATED, else its state, offset for containers. */
export function recordClass(def: PipelineDefinition, i: number, r: NodeRecord): number {
  const c = STATE_CLASS[r.state];
  return c < 0 ? NO_CLASS : (def.traits[i] & TRAIT_CONTAINER) !== 0 ? c + CONTAINER_OFFSET : c;
}

/** The classes of RUNNING, READY and SUSPENDED records, of leaves and containers. */
export const ACTIVE_CLASSES: readonly number[] = [...ACTIVE].flatMap((s) => [STATE_CLASS[s], STATE_CLASS[s] + CONTAINER_OFFSET]);

export type StateCounts = Record<State, number>;

export interface Rollup {
  /** nodes of the subtree (its root included) in each stored state */
  readonly nodes: StateCounts;
  /** the subtree's leaves (activities, events, gateways) in each stored state */
  readonly leaves: StateCounts;
}

/** Leaves before each preorder position: prefix[j] = leaves among nodes 0..j-1. One per definition. */
const leafPrefixes = new WeakMap<PipelineDefinition, Int32Array>();

function leafPrefix(def: PipelineDefinition): Int32Array {
  let prefix = leafPrefixes.get(def);
  if (prefix === undefined) {
    prefix = new Int32Array(def.size + 1);
    for (let j = 0; j < def.size; j++) prefix[j + 1] = prefix[j] + ((def.traits[j] & TRAIT_CONTAINER) === 0 ? 1 : 0);
    leafPrefixes.set(def, prefix);
  }
  return prefix;
}

const emptyCounts = (): StateCounts => Object.fromEntries(STATES.map((s) => [s, 0])) as StateCounts;

/** The roll-up of node i's subtree in a task as a snapshot holds it. */
export function rollupAt(task: TaskView, i: number): Rollup {
  const def = task.definition;
  const classOf = (r: NodeRecord, j: number): number => recordClass(def, j, r);
  const counted = new Array<number>(ROLLUP_CLASSES).fill(0);
  countClasses(task.records, i, def.end[i], classOf, counted);
  const prefix = leafPrefix(def);
  const leafTotal = prefix[def.end[i]] - prefix[i];
  const nodeTotal = def.end[i] - i;
  const nodes = emptyCounts();
  const leaves = emptyCounts();
  STORED.forEach((s, k) => {
    leaves[s] = counted[k];
    nodes[s] = counted[k] + counted[k + CONTAINER_OFFSET];
  });
  leaves.CREATED = leafTotal - STORED.reduce((sum, s) => sum + leaves[s], 0);
  nodes.CREATED = nodeTotal - STORED.reduce((sum, s) => sum + nodes[s], 0);
  return { nodes, leaves };
}

/** Leaves of the subtree that have finished, and all its leaves (Argo's "6/10"). */
export function progressOf(r: Rollup): { finished: number; total: number } {
  return { finished: r.leaves.FINISHED, total: STATES.reduce((sum, s) => sum + r.leaves[s], 0) };
}
