/**
 * The offers table a client carries (src/lifecycle/offers.ts) against the independent reading of
 * SPEC §2 in the reference model: an operation is offered exactly when the spec accepts it.
 */
import { describe, expect, it } from 'vitest';
import { STATES } from '../../src/lifecycle/index.js';
import { OFFERED_OPERATIONS, offeredOperations } from '../../src/lifecycle/offer-key.js';
import { offersTable } from '../../src/lifecycle/offers.js';
import { specNext, type Ancestors } from '../store/reference-model.js';

const ANCESTORS: readonly Ancestors[] = ['running', 'suspended', 'archived'];
const table = offersTable();

describe('the offers table', () => {
  it('offers an operation exactly when SPEC §2 accepts it, for every kind, ancestor condition and state', () => {
    let checked = 0;
    for (const container of [false, true]) {
      for (const root of container ? [false, true] : [false]) {
        for (const errorIgnorable of [false, true]) {
          const traits = { container, root, errorIgnorable };
          for (const ancestors of root ? ['running' as const] : ANCESTORS) {
            for (const state of STATES) {
              const expected = OFFERED_OPERATIONS.filter(
                (op) => specNext({ ...traits, atRerunLimit: false }, ancestors, false, state, op) !== null,
              );
              expect(offeredOperations(table, traits, ancestors, state), `${JSON.stringify(traits)} ${ancestors} ${state}`).toEqual(
                expected,
              );
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(7 * (2 * 3 + 2 * 3 + 2));
  });

  it('pins the cases a person meets', () => {
    const leaf = { container: false, root: false, errorIgnorable: false };
    const root = { container: true, root: true, errorIgnorable: false };
    expect(offeredOperations(table, leaf, 'running', 'FAILED')).toEqual(['retry', 'skip']);
    expect(offeredOperations(table, leaf, 'running', 'RUNNING')).toEqual(['forced_fail', 'callback']);
    expect(offeredOperations(table, leaf, 'suspended', 'SUSPENDED')).toEqual([]);
    expect(offeredOperations(table, root, 'running', 'RUNNING')).toEqual(['pause', 'revoke']);
    expect(offeredOperations(table, root, 'running', 'SUSPENDED')).toEqual(['resume', 'revoke']);
    expect(JSON.parse(JSON.stringify(table))).toEqual(table);
  });

  it('a table without the key (an older one, or one cut short in transit) offers nothing', () => {
    const leaf = { container: false, root: false, errorIgnorable: false };
    expect(offeredOperations({}, leaf, 'running', 'FAILED')).toEqual([]);
  });
});
