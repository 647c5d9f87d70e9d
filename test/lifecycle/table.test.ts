/**
 * The compiled table is the hot path; the xstate machine is the specification (DESIGN.md). This
 * suite holds them together on every input the table has, then holds the machine to SPEC §2's
 * state graph and to an independent reading of the operations table (test/store/reference-model).
 */
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import {
  ANCESTOR_CONDITIONS,
  MACHINE_OPERATIONS,
  STATES,
  contextCode,
  contextOf,
  lifecycleMachine,
  nextStateCode,
  type AncestorCondition,
  type LifecycleContext,
  type MachineOperation,
  type State,
} from '../../src/lifecycle/index.js';
import { SPEC_GRAPH, specNext, type SpecState } from '../store/reference-model.js';

/** What xstate's own pure `transition` does with the event: the next state, or null when not taken. */
function xstateNext(
  context: LifecycleContext,
  ancestors: AncestorCondition,
  descendantsActive: boolean,
  state: State,
  op: MachineOperation,
): State | null {
  const snapshot = lifecycleMachine.resolveState({ value: state, context });
  const event = { type: op, ancestors, descendantsActive };
  const [next] = transition(lifecycleMachine, snapshot, event);
  // A taken self-transition (callback) leaves the value unchanged too: `can` tells them apart.
  if (!snapshot.can(event)) {
    expect(next.value, `${op} from ${state} is not taken, yet the value moved`).toBe(state);
    return null;
  }
  return next.value as State;
}

interface Input {
  readonly ctx: number;
  readonly anc: number;
  readonly busy: number;
  readonly state: number;
  readonly op: number;
}

function* everyInput(): Generator<Input> {
  for (let ctx = 0; ctx < 16; ctx++) {
    for (let anc = 0; anc < ANCESTOR_CONDITIONS.length; anc++) {
      for (let busy = 0; busy < 2; busy++) {
        for (let state = 0; state < STATES.length; state++) {
          for (let op = 0; op < MACHINE_OPERATIONS.length; op++) yield { ctx, anc, busy, state, op };
        }
      }
    }
  }
}

const describeInput = (i: Input): string =>
  `ctx=${i.ctx} ${JSON.stringify(contextOf(i.ctx))} ancestors=${ANCESTOR_CONDITIONS[i.anc]} busy=${i.busy} ` +
  `state=${STATES[i.state]} op=${MACHINE_OPERATIONS[i.op]}`;

const tableNext = (i: Input): State | null => {
  const code = nextStateCode(i.ctx, i.anc, i.busy, i.state, i.op);
  return code < 0 ? null : STATES[code];
};

describe('the compiled table', () => {
  it('agrees with xstate transition() on every (context, ancestors, descendants, state, operation)', () => {
    let checked = 0;
    let taken = 0;
    const disagreements: string[] = [];
    for (const input of everyInput()) {
      const expected = xstateNext(
        contextOf(input.ctx),
        ANCESTOR_CONDITIONS[input.anc],
        input.busy === 1,
        STATES[input.state],
        MACHINE_OPERATIONS[input.op],
      );
      const actual = tableNext(input);
      if (actual !== expected) disagreements.push(`${describeInput(input)}: table ${actual}, xstate ${expected}`);
      checked++;
      if (expected !== null) taken++;
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBe(16 * 3 * 2 * 7 * 13);
    // Not vacuous: a fair share of the entries move a node.
    expect(taken).toBeGreaterThan(500);
  });

  it('agrees with an independent reading of SPEC §2 on every input', () => {
    const disagreements: string[] = [];
    for (const input of everyInput()) {
      const c = contextOf(input.ctx);
      const expected = specNext(
        c,
        ANCESTOR_CONDITIONS[input.anc],
        input.busy === 1,
        STATES[input.state] as SpecState,
        MACHINE_OPERATIONS[input.op],
      );
      const actual = tableNext(input);
      if (actual !== expected) disagreements.push(`${describeInput(input)}: table ${actual}, spec ${expected}`);
    }
    expect(disagreements).toEqual([]);
  });

  it('numbers contexts with one bit per trait, and contextOf inverts contextCode', () => {
    for (let code = 0; code < 16; code++) expect(contextCode(contextOf(code))).toBe(code);
    expect(contextCode({ container: true, root: false, errorIgnorable: false, atRerunLimit: false })).toBe(1);
    expect(contextCode({ container: false, root: true, errorIgnorable: false, atRerunLimit: false })).toBe(2);
    expect(contextCode({ container: false, root: false, errorIgnorable: true, atRerunLimit: false })).toBe(4);
    expect(contextCode({ container: false, root: false, errorIgnorable: false, atRerunLimit: true })).toBe(8);
  });
});

describe('the state graph the machine allows', () => {
  /** Every (from → to) some context, ancestors, descendants and operation make xstate take. */
  function machineGraph(): Map<State, Set<State>> {
    const graph = new Map<State, Set<State>>(STATES.map((s) => [s, new Set<State>()]));
    for (const input of everyInput()) {
      const from = STATES[input.state];
      const to = xstateNext(contextOf(input.ctx), ANCESTOR_CONDITIONS[input.anc], input.busy === 1, from, MACHINE_OPERATIONS[input.op]);
      if (to !== null) graph.get(from)!.add(to);
    }
    return graph;
  }

  it('is the union table of SPEC §2 (with the revoke cascade) plus the callback self-loop on RUNNING', () => {
    const graph = machineGraph();
    const asObject = Object.fromEntries(STATES.map((s) => [s, [...graph.get(s)!].sort()]));
    const expected = Object.fromEntries(
      STATES.map((s) => [s, [...SPEC_GRAPH[s as SpecState], ...(s === 'RUNNING' ? ['RUNNING'] : [])].sort()]),
    );
    expect(asObject).toEqual(expected);
  });

  it('the only self-transition is callback on RUNNING, for leaves under live ancestors', () => {
    const selfLoops = new Set<string>();
    for (const input of everyInput()) {
      const state = STATES[input.state];
      const op = MACHINE_OPERATIONS[input.op];
      const c = contextOf(input.ctx);
      if (xstateNext(c, ANCESTOR_CONDITIONS[input.anc], input.busy === 1, state, op) === state) {
        selfLoops.add(`${state} ${op} container=${c.container} ancestors=${ANCESTOR_CONDITIONS[input.anc]}`);
      }
    }
    expect([...selfLoops].sort()).toEqual([
      'RUNNING callback container=false ancestors=running',
      'RUNNING callback container=false ancestors=suspended',
    ]);
  });

  it('REVOKED accepts nothing, in any context', () => {
    for (const input of everyInput()) {
      if (STATES[input.state] !== 'REVOKED') continue;
      expect(tableNext(input), describeInput(input)).toBeNull();
      const snapshot = lifecycleMachine.resolveState({ value: 'REVOKED', context: contextOf(input.ctx) });
      expect(snapshot.status).toBe('done');
    }
  });

  it('reaches REVOKED only through the root revoke or the cascade', () => {
    const viaOps = new Set<string>();
    for (const input of everyInput()) {
      if (tableNext(input) === 'REVOKED') {
        viaOps.add(`${MACHINE_OPERATIONS[input.op]} root=${contextOf(input.ctx).root}`);
      }
    }
    expect([...viaOps].sort()).toEqual(['revoke root=true', 'revoke_cascade root=false', 'revoke_cascade root=true']);
  });
});
