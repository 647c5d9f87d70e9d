/**
 * What a person may be offered to do to a node (the operations of operate_task and operate_node),
 * as data a client can carry without the machine: for each kind of node, ancestor condition and
 * stored state, the operations the lifecycle table accepts. A client that offers only these never
 * offers an operation the engine would refuse for its state or structure (the version check and
 * a race with another change remain: the engine still decides).
 */
import { ANCESTOR_CONDITIONS } from './machine.js';
import { OFFERED_OPERATIONS, offerKey, type OfferedOperation, type OffersTable } from './offer-key.js';
import { MACHINE_OPERATIONS, STATES } from './states.js';
import { CONTEXT_CONTAINER, CONTEXT_ERROR_IGNORABLE, CONTEXT_ROOT, REFUSED, contextOf, nextStateCode } from './table.js';

/** Every combination of traits, ancestor condition and state, with the operations the table accepts (no rerun-limit bit: no offered operation depends on it). */
export function offersTable(): OffersTable {
  const table: Record<string, OfferedOperation[]> = {};
  for (let ctx = 0; ctx <= (CONTEXT_CONTAINER | CONTEXT_ROOT | CONTEXT_ERROR_IGNORABLE); ctx++) {
    const c = contextOf(ctx);
    for (const [anc, ancestors] of ANCESTOR_CONDITIONS.entries()) {
      for (const [s, state] of STATES.entries()) {
        table[offerKey({ container: c.container, root: c.root, errorIgnorable: c.errorIgnorable }, ancestors, state)] =
          OFFERED_OPERATIONS.filter((op) => nextStateCode(ctx, anc, 0, s, MACHINE_OPERATIONS.indexOf(op)) !== REFUSED);
      }
    }
  }
  return table;
}
