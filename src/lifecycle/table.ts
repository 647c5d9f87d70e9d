/**
 * The lifecycle machine compiled into a dense table, once, at load: the hot path asks the
 * table, never xstate (DESIGN.md: a pure xstate transition costs 25–35 µs, the table a few ns).
 * test/lifecycle/table.test.ts checks every entry against xstate's own `transition`.
 */
import { lifecycleMachine, ANCESTOR_CONDITIONS, type AncestorCondition, type LifecycleContext } from './machine.js';
import { MACHINE_OPERATIONS, STATES, type MachineOperation, type State } from './states.js';

const N_STATES = STATES.length;
const N_OPS = MACHINE_OPERATIONS.length;
const N_ANCESTORS = ANCESTOR_CONDITIONS.length;
/**
 * A lifecycle context as table bits. The first three are fixed by the definition (model keeps
 * them per node as its `traits`); the store adds the rerun-limit bit per operation.
 */
export const CONTEXT_CONTAINER = 1;
export const CONTEXT_ROOT = 2;
export const CONTEXT_ERROR_IGNORABLE = 4;
export const CONTEXT_AT_RERUN_LIMIT = 8;
const N_CONTEXTS = 16;

export const contextCode = (c: LifecycleContext): number =>
  (c.container ? CONTEXT_CONTAINER : 0) |
  (c.root ? CONTEXT_ROOT : 0) |
  (c.errorIgnorable ? CONTEXT_ERROR_IGNORABLE : 0) |
  (c.atRerunLimit ? CONTEXT_AT_RERUN_LIMIT : 0);

export const contextOf = (code: number): LifecycleContext => ({
  container: (code & CONTEXT_CONTAINER) !== 0,
  root: (code & CONTEXT_ROOT) !== 0,
  errorIgnorable: (code & CONTEXT_ERROR_IGNORABLE) !== 0,
  atRerunLimit: (code & CONTEXT_AT_RERUN_LIMIT) !== 0,
});

const slot = (ctx: number, anc: number, busy: number, state: number, op: number): number =>
  (((ctx * N_ANCESTORS + anc) * 2 + busy) * N_STATES + state) * N_OPS + op;

/** What xstate says: the next state, or null when the machine does not take the event. */
export function machineNext(
  ctx: LifecycleContext,
  ancestors: AncestorCondition,
  descendantsActive: boolean,
  state: State,
  op: MachineOperation,
): State | null {
  const snapshot = lifecycleMachine.resolveState({ value: state, context: ctx });
  const enabled = lifecycleMachine.getTransitionData(snapshot, { type: op, ancestors, descendantsActive });
  const target = enabled?.[0]?.target?.[0];
  return target ? (target.key as State) : null;
}

function compile(): Int8Array {
  const table = new Int8Array(N_CONTEXTS * N_ANCESTORS * 2 * N_STATES * N_OPS).fill(-1);
  for (let ctx = 0; ctx < N_CONTEXTS; ctx++) {
    const context = contextOf(ctx);
    for (let anc = 0; anc < N_ANCESTORS; anc++) {
      for (let busy = 0; busy < 2; busy++) {
        for (let s = 0; s < N_STATES; s++) {
          for (let op = 0; op < N_OPS; op++) {
            const next = machineNext(context, ANCESTOR_CONDITIONS[anc], busy === 1, STATES[s], MACHINE_OPERATIONS[op]);
            if (next) table[slot(ctx, anc, busy, s, op)] = STATES.indexOf(next);
          }
        }
      }
    }
  }
  return table;
}

const TABLE = compile();

/** The code nextStateCode answers for a refused operation. */
export const REFUSED = -1;

/** The next state's code, or REFUSED. All arguments are codes. */
export const nextStateCode = (ctx: number, anc: number, busy: number, state: number, op: number): number =>
  TABLE[slot(ctx, anc, busy, state, op)];

/** Why an operation the table refuses is refused, in the order a caller can act on it. */
export type Refusal =
  | { readonly reason: 'state'; readonly needs: readonly State[] }
  | { readonly reason: 'kind'; readonly needs: 'leaf' | 'container' | 'root' }
  | { readonly reason: 'ancestors'; readonly needs: 'running' | 'live' }
  | { readonly reason: 'descendants' };

const RUNNING_ANC = 0;
const LIVE_ANC = 1;

/**
 * Diagnoses a refusal from the table alone. A state refusal lists the states this node could
 * take the operation from; a kind refusal is given only when no state would do; structural
 * refusals (ancestors, descendants) when the state itself is right.
 */
export function diagnose(ctx: number, anc: number, busy: number, state: number, op: number): Refusal {
  const ideal = (s: number): boolean => nextStateCode(ctx, RUNNING_ANC, 0, s, op) !== REFUSED;
  if (ideal(state)) {
    if (busy && nextStateCode(ctx, anc, 0, state, op) !== REFUSED) return { reason: 'descendants' };
    return { reason: 'ancestors', needs: nextStateCode(ctx, LIVE_ANC, 0, state, op) !== REFUSED ? 'live' : 'running' };
  }
  const needs = STATES.filter((_, s) => ideal(s));
  if (needs.length > 0) return { reason: 'state', needs };
  // No state of this kind of node takes it: it is for leaves, for containers, or else for the root.
  const base = ctx & ~(CONTEXT_CONTAINER | CONTEXT_ROOT);
  const taken = (kind: number): boolean => STATES.some((_, s) => nextStateCode(kind, RUNNING_ANC, 0, s, op) !== REFUSED);
  return { reason: 'kind', needs: taken(base) ? 'leaf' : taken(base | CONTEXT_CONTAINER) ? 'container' : 'root' };
}
