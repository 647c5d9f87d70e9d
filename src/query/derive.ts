/**
 * The derived state of SPEC §3.3 as data. A RUNNING node is shown by what its direct children
 * are shown as; every other state is shown as stored.
 */
import type { State } from '../lifecycle/index.js';
import type { ShownState } from './types.js';

/** What a node's shown children amount to, as bits. */
export const CHILD_SUSPENDED = 1;
export const CHILD_FAILED = 2;

/** The bit a child shown in a state contributes to its parent. */
export const CHILD_BIT: Readonly<Record<ShownState, number>> = {
  CREATED: 0,
  READY: 0,
  RUNNING: 0,
  FINISHED: 0,
  REVOKED: 0,
  SUSPENDED: CHILD_SUSPENDED,
  NODE_SUSPENDED: CHILD_SUSPENDED,
  FAILED: CHILD_FAILED,
};

/** A RUNNING node, indexed by its children's bits: FAILED wins over a suspension. */
const RUNNING_SHOWN: readonly ShownState[] = ['RUNNING', 'NODE_SUSPENDED', 'FAILED', 'FAILED'];

export const shownState = (own: State, childBits: number): ShownState => (own === 'RUNNING' ? RUNNING_SHOWN[childBits] : own);
