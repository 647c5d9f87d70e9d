/**
 * One example per row of SPEC §2's effects table, pinning the exact record. The pure effects are
 * checked directly; what needs the tree (history, the revoke cascade, the rerun limit counted by
 * the store) is checked through a Store with a fixed clock and counter versions.
 */
import { describe, expect, it } from 'vitest';
import {
  EFFECTS,
  endsAttempt,
  initialRecord,
  rerunLimitMessage,
  type EffectInput,
  type Json,
  type MachineOperation,
  type NodeRecord,
  type State,
} from '../../src/lifecycle/index.js';
import { Store } from '../../src/store/index.js';
import type { NodeDefinition } from '../../src/model/index.js';

const CREATED_AT = 1_000;
const NOW = 5_000;

/** v1, v2, … as 32 lowercase hex chars, like the real versions */
const versionCounter = (): (() => string) => {
  let n = 0;
  return () => (++n).toString(16).padStart(32, '0');
};
const V = (n: number): string => n.toString(16).padStart(32, '0');

/** The initial record, written out (the first test checks initialRecord against it). */
const base: NodeRecord = Object.freeze({
  state: 'CREATED',
  version: '',
  loop: 0,
  retry: 0,
  auto_retry_times: 0,
  skip: false,
  error_ignored: false,
  started_at: null,
  finished_at: null,
  state_refresh_at: CREATED_AT,
  ex_data: undefined,
});
const rec = (changes: Partial<NodeRecord>): NodeRecord => Object.freeze({ ...base, ...changes });

/** a node in its first attempt, RUNNING since t=2000 */
const running = rec({ state: 'RUNNING', version: V(100), loop: 1, started_at: 2_000, state_refresh_at: 2_000 });

function effect(op: MachineOperation, from: NodeRecord, to: State, extra: Partial<EffectInput> = {}): NodeRecord {
  const input: EffectInput = { to, now: NOW, newVersion: versionCounter(), rerunLimit: 100, exData: undefined, ...extra };
  return EFFECTS[op](from, input);
}

describe('pure effects (SPEC §2 effects table)', () => {
  it('the initial record', () => {
    const initial = initialRecord(CREATED_AT);
    expect(initial).toStrictEqual(base);
    expect(Object.keys(initial)).toEqual(Object.keys(base));
    expect(Object.isFrozen(initial)).toBe(true);
  });

  it('start from CREATED: loop 1, a new version, started now', () => {
    const r = effect('start', base, 'RUNNING');
    expect(r).toStrictEqual({
      state: 'RUNNING',
      version: V(1),
      loop: 1,
      retry: 0,
      auto_retry_times: 0,
      skip: false,
      error_ignored: false,
      started_at: NOW,
      finished_at: null,
      state_refresh_at: NOW,
      ex_data: undefined,
    });
    expect(Object.isFrozen(r)).toBe(true);
    // every record has the same keys in the same order (one hidden class)
    expect(Object.keys(r)).toEqual(Object.keys(base));
  });

  it('start from READY after a retry: loop and version kept, started now', () => {
    const ready = rec({ state: 'READY', version: V(7), loop: 1, retry: 1, state_refresh_at: 3_000 });
    expect(effect('start', ready, 'RUNNING')).toStrictEqual(
      rec({ state: 'RUNNING', version: V(7), loop: 1, retry: 1, started_at: NOW, state_refresh_at: NOW }),
    );
  });

  it('start from READY of a leaf paused before it ever ran (loop 0): loop 1 and a new version', () => {
    const ready = rec({ state: 'READY', state_refresh_at: 3_000 });
    expect(effect('start', ready, 'RUNNING')).toStrictEqual(
      rec({ state: 'RUNNING', version: V(1), loop: 1, started_at: NOW, state_refresh_at: NOW }),
    );
  });

  it('finish: finished now', () => {
    expect(effect('finish', running, 'FINISHED')).toStrictEqual(
      rec({ state: 'FINISHED', version: V(100), loop: 1, started_at: 2_000, finished_at: NOW, state_refresh_at: NOW }),
    );
  });

  it('fail: finished now, ex_data kept, version unchanged', () => {
    expect(effect('fail', running, 'FAILED', { exData: { reason: 'timeout', code: 7 } })).toStrictEqual(
      rec({
        state: 'FAILED',
        version: V(100),
        loop: 1,
        started_at: 2_000,
        finished_at: NOW,
        state_refresh_at: NOW,
        ex_data: { reason: 'timeout', code: 7 },
      }),
    );
  });

  it('fail of an error_ignorable node: FINISHED with error_ignored, ex_data kept', () => {
    expect(effect('fail', running, 'FINISHED', { exData: 'ignored error' })).toStrictEqual(
      rec({
        state: 'FINISHED',
        version: V(100),
        loop: 1,
        error_ignored: true,
        started_at: 2_000,
        finished_at: NOW,
        state_refresh_at: NOW,
        ex_data: 'ignored error',
      }),
    );
  });

  it('forced_fail: as fail plus a new version, never ignored', () => {
    expect(effect('forced_fail', running, 'FAILED', { exData: 'forced' })).toStrictEqual(
      rec({
        state: 'FAILED',
        version: V(1),
        loop: 1,
        error_ignored: false,
        started_at: 2_000,
        finished_at: NOW,
        state_refresh_at: NOW,
        ex_data: 'forced',
      }),
    );
  });

  it('pause and resume change nothing but state and state_refresh_at', () => {
    expect(effect('pause', running, 'SUSPENDED')).toStrictEqual({ ...running, state: 'SUSPENDED', state_refresh_at: NOW });
    const suspended = rec({ ...running, state: 'SUSPENDED' });
    expect(effect('resume', suspended, 'RUNNING')).toStrictEqual({ ...running, state_refresh_at: NOW });
    expect(effect('pause', base, 'SUSPENDED')).toStrictEqual(rec({ state: 'SUSPENDED', state_refresh_at: NOW }));
    expect(effect('resume', rec({ state: 'SUSPENDED' }), 'READY')).toStrictEqual(rec({ state: 'READY', state_refresh_at: NOW }));
  });

  it('retry: retry + 1, new version, times cleared, ex_data removed, and it ends an attempt', () => {
    const failed = rec({ ...running, state: 'FAILED', finished_at: 4_000, ex_data: 'boom', retry: 2 });
    expect(effect('retry', failed, 'READY')).toStrictEqual(
      rec({
        state: 'READY',
        version: V(1),
        loop: 1,
        retry: 3,
        started_at: null,
        finished_at: null,
        state_refresh_at: NOW,
        ex_data: undefined,
      }),
    );
    expect(endsAttempt('retry', 'READY')).toBe(true);
  });

  it('skip: skip true, retry + 1, new version, finished now (ex_data is left as it was)', () => {
    const failed = rec({ ...running, state: 'FAILED', finished_at: 4_000, ex_data: 'boom' });
    expect(effect('skip', failed, 'FINISHED')).toStrictEqual(
      rec({
        state: 'FINISHED',
        version: V(1),
        loop: 1,
        retry: 1,
        skip: true,
        started_at: 2_000,
        finished_at: NOW,
        state_refresh_at: NOW,
        ex_data: 'boom',
      }),
    );
    expect(endsAttempt('skip', 'FINISHED')).toBe(false);
  });

  it('reenter: loop + 1, skip and error_ignored reset, new version, started now, ex_data cleared', () => {
    // SPEC is silent on ex_data at re-entry; the code clears it (the new attempt has no error yet).
    const finished = rec({
      ...running,
      state: 'FINISHED',
      loop: 3,
      retry: 2,
      skip: true,
      error_ignored: true,
      finished_at: 4_000,
      ex_data: 'old',
    });
    expect(effect('reenter', finished, 'RUNNING')).toStrictEqual(
      rec({
        state: 'RUNNING',
        version: V(1),
        loop: 4,
        retry: 2,
        skip: false,
        error_ignored: false,
        started_at: NOW,
        finished_at: null,
        state_refresh_at: NOW,
        ex_data: undefined,
      }),
    );
    expect(endsAttempt('reenter', 'RUNNING')).toBe(true);
  });

  it('reenter past the rerun limit: FAILED, finished now, the limit message; loop and version unchanged', () => {
    const finished = rec({ ...running, state: 'FINISHED', loop: 2, finished_at: 4_000 });
    expect(effect('reenter', finished, 'FAILED', { rerunLimit: 2 })).toStrictEqual(
      rec({
        state: 'FAILED',
        version: V(100),
        loop: 2,
        started_at: 2_000,
        finished_at: NOW,
        state_refresh_at: NOW,
        ex_data: 'node execution exceed rerun limit 2',
      }),
    );
    expect(rerunLimitMessage(2)).toBe('node execution exceed rerun limit 2');
    expect(endsAttempt('reenter', 'FAILED')).toBe(false);
  });

  it('revoke and its cascade: finished now', () => {
    expect(effect('revoke', running, 'REVOKED')).toStrictEqual({ ...running, state: 'REVOKED', finished_at: NOW, state_refresh_at: NOW });
    const ready = rec({ state: 'READY', version: V(3), loop: 1, retry: 1 });
    expect(effect('revoke_cascade', ready, 'REVOKED')).toStrictEqual({
      ...ready,
      state: 'REVOKED',
      finished_at: NOW,
      state_refresh_at: NOW,
    });
  });

  it('callback: only state_refresh_at changes', () => {
    expect(effect('callback', running, 'RUNNING')).toStrictEqual({ ...running, state_refresh_at: NOW });
  });

  it('effects never change their input record, and always return a new frozen one', () => {
    // Not frozen, nested ex_data: an effect that wrote to its input would succeed silently here
    // (rec() freezes, and a write to a frozen record would throw instead).
    const inputs: [MachineOperation, State, NodeRecord][] = [
      ['start', 'RUNNING', { ...base }],
      ['start', 'RUNNING', { ...base, state: 'READY', version: V(7), loop: 1, retry: 1 }],
      ['finish', 'FINISHED', { ...running }],
      ['fail', 'FAILED', { ...running }],
      ['fail', 'FINISHED', { ...running }],
      ['forced_fail', 'FAILED', { ...running }],
      ['pause', 'SUSPENDED', { ...running }],
      ['resume', 'RUNNING', { ...running, state: 'SUSPENDED' }],
      ['retry', 'READY', { ...running, state: 'FAILED', finished_at: 4_000, ex_data: { why: ['boom'] } }],
      ['auto_retry', 'READY', { ...running, state: 'FAILED', finished_at: 4_000, ex_data: { why: ['boom'] } }],
      ['skip', 'FINISHED', { ...running, state: 'FAILED', finished_at: 4_000, ex_data: { why: ['boom'] } }],
      ['reenter', 'RUNNING', { ...running, state: 'FINISHED', finished_at: 4_000, ex_data: { old: [1] } }],
      ['reenter', 'FAILED', { ...running, state: 'FINISHED', loop: 2, finished_at: 4_000 }],
      ['revoke', 'REVOKED', { ...running }],
      ['revoke_cascade', 'REVOKED', { ...running, state: 'READY' }],
      ['callback', 'RUNNING', { ...running, ex_data: { progress: [50] } }],
    ];
    expect(new Set(inputs.map(([op]) => op))).toEqual(new Set(Object.keys(EFFECTS)));
    for (const [op, to, input] of inputs) {
      const before = structuredClone(input);
      const out = effect(op, input, to, { exData: { reason: ['new'] }, rerunLimit: 2 });
      expect(input, `${op} → ${to} changed its input`).toStrictEqual(before);
      expect(out, `${op} → ${to}`).not.toBe(input);
      expect(out.state).toBe(to);
      expect(Object.isFrozen(out)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  children: [
    { id: 'a', name: 'A', kind: 'activity' },
    { id: 'ign', kind: 'activity', error_ignorable: true },
    {
      id: 'sp',
      kind: 'subprocess',
      children: [
        { id: 'b', kind: 'activity' },
        { id: 'c', kind: 'gateway' },
        { id: 'd', kind: 'event' },
        { id: 'e', kind: 'activity' },
      ],
    },
    { id: 'z', kind: 'activity' },
  ],
};

function setup(rerunLimit = 100) {
  let now = CREATED_AT;
  const store = new Store({ clock: () => now, newVersion: versionCounter(), rerunLimit });
  store.createProject({ id: '1', name: 'p' });
  store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
  const at = (t: number): Store => {
    now = t;
    return store;
  };
  const node = (id: string): NodeRecord => store.snapshot().getNode('10', id)!;
  const history = (id: string): readonly NodeRecord[] => store.snapshot().getHistory('10', id)!;
  return { store, at, node, history };
}

describe('effects through the store', () => {
  it('every node starts CREATED with state_refresh_at = the task created_at', () => {
    const { node } = setup();
    for (const id of ['root', 'a', 'ign', 'sp', 'b', 'c', 'd', 'e', 'z']) expect(node(id)).toStrictEqual(base);
  });

  it('error_ignorable fail → FINISHED with error_ignored; forced_fail of the same node → FAILED', () => {
    const { at, node } = setup();
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'ign');
    at(2_002).fail('10', 'ign', { ex_data: 'x' });
    expect(node('ign')).toStrictEqual(
      rec({
        state: 'FINISHED',
        version: V(2),
        loop: 1,
        error_ignored: true,
        started_at: 2_001,
        finished_at: 2_002,
        state_refresh_at: 2_002,
        ex_data: 'x',
      }),
    );
    at(2_003).reenter('10', 'ign');
    at(2_004).forcedFail('10', 'ign', { ex_data: { why: 'forced' } });
    expect(node('ign')).toStrictEqual(
      rec({
        state: 'FAILED',
        version: V(4),
        loop: 2,
        error_ignored: false,
        started_at: 2_003,
        finished_at: 2_004,
        state_refresh_at: 2_004,
        ex_data: { why: 'forced' },
      }),
    );
  });

  it('retry puts the ended attempt in the history, then start runs the new attempt', () => {
    const { at, node, history } = setup();
    at(2_000).start('10', 'root');
    at(2_100).start('10', 'a');
    at(2_200).fail('10', 'a', { ex_data: 'boom' });
    const failed = node('a');
    at(2_300).retry('10', 'a');
    expect(node('a')).toStrictEqual(rec({ state: 'READY', version: V(3), loop: 1, retry: 1, state_refresh_at: 2_300 }));
    expect(history('a')).toStrictEqual([
      rec({
        state: 'FAILED',
        version: V(2),
        loop: 1,
        started_at: 2_100,
        finished_at: 2_200,
        state_refresh_at: 2_200,
        ex_data: 'boom',
      }),
    ]);
    expect(history('a')[0]).toBe(failed);
    at(2_400).start('10', 'a');
    expect(node('a')).toStrictEqual(
      rec({
        state: 'RUNNING',
        version: V(3),
        loop: 1,
        retry: 1,
        started_at: 2_400,
        state_refresh_at: 2_400,
      }),
    );
  });

  it('skip: FINISHED with skip, retry + 1, new version; no history', () => {
    const { at, node, history } = setup();
    at(2_000).start('10', 'root');
    at(2_100).start('10', 'a');
    at(2_200).fail('10', 'a', { ex_data: 'boom' });
    at(2_300).skip('10', 'a');
    expect(node('a')).toStrictEqual(
      rec({
        state: 'FINISHED',
        version: V(3),
        loop: 1,
        retry: 1,
        skip: true,
        started_at: 2_100,
        finished_at: 2_300,
        state_refresh_at: 2_300,
        ex_data: 'boom',
      }),
    );
    expect(history('a')).toEqual([]);
  });

  it('reenter: history, loop + 1, resets, ex_data cleared', () => {
    const { at, node, history } = setup();
    at(2_000).start('10', 'root');
    at(2_100).start('10', 'a');
    at(2_200).fail('10', 'a', { ex_data: 'boom' });
    at(2_300).skip('10', 'a');
    const skipped = node('a');
    at(2_400).reenter('10', 'a');
    expect(node('a')).toStrictEqual(
      rec({
        state: 'RUNNING',
        version: V(4),
        loop: 2,
        retry: 1,
        skip: false,
        started_at: 2_400,
        state_refresh_at: 2_400,
      }),
    );
    expect(history('a')).toEqual([skipped]);
  });

  it('reenter past rerunLimit: FAILED with the limit message; loop, version and history unchanged', () => {
    const { at, node, history } = setup(2);
    at(2_000).start('10', 'root');
    at(2_100).start('10', 'a');
    at(2_200).finish('10', 'a');
    at(2_300).reenter('10', 'a'); // entered twice: the limit
    at(2_400).finish('10', 'a');
    const historyBefore = history('a');
    at(2_500).reenter('10', 'a');
    expect(node('a')).toStrictEqual(
      rec({
        state: 'FAILED',
        version: V(3),
        loop: 2,
        started_at: 2_300,
        finished_at: 2_500,
        state_refresh_at: 2_500,
        ex_data: 'node execution exceed rerun limit 2',
      }),
    );
    expect(history('a')).toEqual(historyBefore);
    expect(history('a')).toHaveLength(1);
  });

  // SPEC names error_ignored's resets (reenter) and forced_fail's "never ignored", and is silent
  // on the rest. The engine reads it as: a failure that stands (the rerun limit) is never shown
  // ignored, and a retry starts an attempt that owes nothing to the failed one.
  it('error_ignored is cleared by the rerun-limit failure and by a retry', () => {
    const { at, node } = setup(1);
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'ign');
    at(2_002).fail('10', 'ign');
    at(2_003).reenter('10', 'ign');
    expect(node('ign')).toMatchObject({ state: 'FAILED', error_ignored: false, ex_data: 'node execution exceed rerun limit 1' });
    at(2_004).retry('10', 'ign');
    at(2_005).start('10', 'ign');
    at(2_006).finish('10', 'ign');
    expect(node('ign')).toMatchObject({ state: 'FINISHED', error_ignored: false, retry: 1, loop: 1 });
  });

  it('revoke cascade: active descendants REVOKED with finished_at, CREATED and archived ones untouched', () => {
    const { store, at, node } = setup();
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'sp');
    at(2_002).start('10', 'b'); // RUNNING
    at(2_003).start('10', 'c');
    at(2_004).fail('10', 'c'); // FAILED
    at(2_005).retry('10', 'c'); // READY
    at(2_006).pause('10', 'd'); // SUSPENDED, never ran
    at(2_007).start('10', 'a');
    at(2_008).finish('10', 'a'); // FINISHED
    // e and z stay CREATED
    const finishedA = node('a');
    const changes = at(3_000).revoke('10', 'root');
    expect(changes.map((c) => [c.nodeId, c.from, c.to])).toEqual([
      ['root', 'RUNNING', 'REVOKED'],
      ['sp', 'RUNNING', 'REVOKED'],
      ['b', 'RUNNING', 'REVOKED'],
      ['c', 'READY', 'REVOKED'],
      ['d', 'SUSPENDED', 'REVOKED'],
    ]);
    expect(node('root')).toStrictEqual(
      rec({
        state: 'REVOKED',
        version: V(1),
        loop: 1,
        started_at: 2_000,
        finished_at: 3_000,
        state_refresh_at: 3_000,
      }),
    );
    expect(node('b')).toStrictEqual(
      rec({
        state: 'REVOKED',
        version: V(3),
        loop: 1,
        started_at: 2_002,
        finished_at: 3_000,
        state_refresh_at: 3_000,
      }),
    );
    expect(node('c')).toStrictEqual(
      rec({
        state: 'REVOKED',
        version: V(5),
        loop: 1,
        retry: 1,
        finished_at: 3_000,
        state_refresh_at: 3_000,
      }),
    );
    expect(node('d')).toStrictEqual(rec({ state: 'REVOKED', finished_at: 3_000, state_refresh_at: 3_000 }));
    expect(node('a')).toBe(finishedA);
    expect(node('e')).toStrictEqual(base);
    expect(node('z')).toStrictEqual(base);
    expect(store.snapshot().getNode('10', 'ign')).toStrictEqual(base);
  });

  it('callback: only state_refresh_at changes, and the event carries the data', () => {
    const { store, at, node } = setup();
    at(2_000).start('10', 'root');
    at(2_100).start('10', 'a');
    const before = node('a');
    const data: Json = { progress: 50, items: [1, 2] };
    const changes = at(2_500).callback('10', 'a', { data, version: V(2) });
    expect(node('a')).toStrictEqual({ ...before, state_refresh_at: 2_500 });
    expect(changes).toEqual([
      {
        seq: 4,
        taskId: '10',
        nodeId: 'a',
        operation: 'callback',
        from: 'RUNNING',
        to: 'RUNNING',
        at: 2_500,
        record: node('a'),
        data: { progress: 50, items: [1, 2] },
      },
    ]);
    expect(store.snapshot().getHistory('10', 'a')).toEqual([]);
  });

  it('a container finishes once no descendant is active', () => {
    const { at, node } = setup();
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'sp');
    at(2_002).start('10', 'b');
    at(2_003).finish('10', 'b');
    at(2_004).finish('10', 'sp');
    expect(node('sp')).toStrictEqual(
      rec({
        state: 'FINISHED',
        version: V(2),
        loop: 1,
        started_at: 2_001,
        finished_at: 2_004,
        state_refresh_at: 2_004,
      }),
    );
  });
});
