/**
 * Reading the offers table (offers.ts) without the machine: a client bundles this file and the
 * table as JSON, never xstate. Imports nothing but types.
 */
import type { AncestorCondition } from './machine.js';
import type { State } from './states.js';

/** The operations a client offers, in the order it shows them. */
export const OFFERED_OPERATIONS = ['retry', 'skip', 'forced_fail', 'pause', 'resume', 'callback', 'revoke'] as const;
export type OfferedOperation = (typeof OFFERED_OPERATIONS)[number];

/** What the definition says of a node. */
export interface NodeTraits {
  readonly container: boolean;
  readonly root: boolean;
  readonly errorIgnorable: boolean;
}

/** The offered operations by offerKey: JSON-serializable. */
export type OffersTable = Readonly<Record<string, readonly OfferedOperation[]>>;

/** `container,root,ignorable|ancestors|state`, e.g. `100|running|FAILED`. */
export const offerKey = (t: NodeTraits, ancestors: AncestorCondition, state: State): string =>
  `${t.container ? 1 : 0}${t.root ? 1 : 0}${t.errorIgnorable ? 1 : 0}|${ancestors}|${state}`;

/** The operations offered for a node now, in OFFERED_OPERATIONS order. */
export const offeredOperations = (
  table: OffersTable,
  t: NodeTraits,
  ancestors: AncestorCondition,
  state: State,
): readonly OfferedOperation[] => table[offerKey(t, ancestors, state)] ?? [];
