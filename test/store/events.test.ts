/**
 * The change feed (SPEC §2: one event per changed node; DESIGN: listeners run after the commit
 * and cannot break the store).
 */
import { describe, expect, it, vi } from 'vitest';
import type { NodeDefinition } from '../../src/model/index.js';
import { Store, type EngineEventName, type NodeChange, type TaskCreated } from '../../src/store/index.js';
import { dumpSnapshot, hexVersion, recordEvents, versionCounter } from './helpers.js';

const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    {
      id: 'sp',
      kind: 'subprocess',
      children: [
        { id: 'b', kind: 'activity' },
        { id: 'c', kind: 'activity' },
      ],
    },
  ],
};

function setup(onListenerError?: (e: unknown, event: EngineEventName) => void) {
  let now = 1_000;
  const store = new Store({ clock: () => now, newVersion: versionCounter().next, onListenerError });
  store.createProject({ id: '1', name: 'p' });
  const at = (t: number): Store => {
    now = t;
    return store;
  };
  return { store, at };
}

describe('task events', () => {
  it('one per task created, with seq, taskId, projectId, at', () => {
    const { store, at } = setup();
    const events = recordEvents(store);
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    at(1_600).createTask({ id: '11', project_id: '1', name: 'u', pipeline: PIPELINE });
    expect(events.tasks).toEqual([
      { seq: 1, taskId: '10', projectId: '1', at: 1_500 },
      { seq: 2, taskId: '11', projectId: '1', at: 1_600 },
    ]);
    expect(events.nodes).toEqual([]);
    expect(Object.isFrozen(events.tasks[0])).toBe(true);
  });
});

describe('node events', () => {
  it('one per changed node, with exactly seq, taskId, nodeId, operation, from, to, at, record', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    const events = recordEvents(store);
    const returned = at(2_000).start('10', 'root');
    expect(events.nodes).toEqual([
      {
        seq: 2,
        taskId: '10',
        nodeId: 'root',
        operation: 'start',
        from: 'CREATED',
        to: 'RUNNING',
        at: 2_000,
        record: {
          state: 'RUNNING',
          version: hexVersion(1),
          loop: 1,
          retry: 0,
          auto_retry_times: 0,
          skip: false,
          error_ignored: false,
          started_at: 2_000,
          finished_at: null,
          state_refresh_at: 2_000,
          ex_data: undefined,
        },
      },
    ]);
    expect(Object.keys(events.nodes[0])).toEqual(['seq', 'taskId', 'nodeId', 'operation', 'from', 'to', 'at', 'record']);
    // what the operation returns is what was emitted, and the record is the snapshot's
    expect(returned).toEqual(events.nodes);
    expect(returned[0]).toBe(events.nodes[0]);
    expect(events.nodes[0].record).toBe(store.snapshot().getNode('10', 'root'));
    expect(Object.isFrozen(events.nodes[0])).toBe(true);
    expect(Object.isFrozen(events.nodes[0].record)).toBe(true);
  });

  it('without a journal, node_durable follows each node event at once, the same change', () => {
    // memory is all there is: a change is as durable as it gets when it is committed
    const { store, at } = setup();
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    const seen: string[] = [];
    const durable: NodeChange[] = [];
    const nodes: NodeChange[] = [];
    store.on('node', (c) => {
      nodes.push(c);
      seen.push(`node ${c.seq}`);
    });
    store.on('node_durable', (c) => {
      durable.push(c);
      seen.push(`durable ${c.seq}`);
    });
    at(2_000).start('10', 'root');
    at(2_001).revoke('10', 'root');
    expect(seen).toEqual(['node 2', 'durable 2', 'node 3', 'durable 3']);
    expect(durable).toEqual(nodes);
    expect(durable[0]).toBe(nodes[0]);
  });

  it('without a journal: whenDurable resolves for any seq accepted so far and refuses any other; no journal status', async () => {
    const { store, at } = setup();
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    at(2_000).start('10', 'root');
    expect(store.cursor).toBe(2);
    await store.whenDurable(0);
    await store.whenDurable(2);
    await store.durable();
    for (const bad of [-1, 3, 1.5, Number.NaN]) {
      await expect(store.whenDurable(bad), String(bad)).rejects.toThrow('invalid cursor: must be a seq from 0 to 2');
    }
    expect(store.journalStatus()).toBeUndefined();
  });

  it('a store takes one journal: a second attach is refused', () => {
    const { store } = setup();
    store.attachJournal();
    expect(() => store.attachJournal()).toThrow(new Error('a journal is already attached to this store'));
  });

  it('fail carries no data field; ex_data is in the record', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'a');
    const events = recordEvents(store);
    at(2_002).fail('10', 'a', { ex_data: { msg: 'x' } });
    expect(events.nodes).toHaveLength(1);
    expect('data' in events.nodes[0]).toBe(false);
    expect(events.nodes[0]).toMatchObject({ seq: 4, operation: 'fail', from: 'RUNNING', to: 'FAILED', at: 2_002 });
    expect(events.nodes[0].record.ex_data).toEqual({ msg: 'x' });
  });

  it('callback carries data (also null), and forcedFail is reported as forced_fail', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'a');
    const events = recordEvents(store);
    at(2_002).callback('10', 'a', { data: { step: 3 } });
    at(2_003).callback('10', 'a', { data: null });
    at(2_004).callback('10', 'a');
    at(2_005).forcedFail('10', 'a', { ex_data: 'stop' });
    expect(events.nodes.map((e) => [e.seq, e.operation, e.from, e.to, e.at, 'data' in e ? e.data : '(none)'])).toEqual([
      [4, 'callback', 'RUNNING', 'RUNNING', 2_002, { step: 3 }],
      [5, 'callback', 'RUNNING', 'RUNNING', 2_003, null],
      [6, 'callback', 'RUNNING', 'RUNNING', 2_004, '(none)'],
      [7, 'forced_fail', 'RUNNING', 'FAILED', 2_005, '(none)'],
    ]);
    expect(Object.keys(events.nodes[0])).toEqual(['seq', 'taskId', 'nodeId', 'operation', 'from', 'to', 'at', 'record', 'data']);
  });

  it('callback data is copied and frozen: the caller cannot change what listeners saw', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'a');
    const events = recordEvents(store);
    const data = { list: [1, 2] };
    store.callback('10', 'a', { data });
    data.list.push(3);
    expect(events.nodes[0].data).toEqual({ list: [1, 2] });
    expect(Object.isFrozen(events.nodes[0].data)).toBe(true);
  });

  it('a revoke emits one event per node it changes, root first, all saying revoke', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    at(2_000).start('10', 'root');
    at(2_001).start('10', 'sp');
    at(2_002).start('10', 'c');
    const events = recordEvents(store);
    at(3_000).revoke('10', 'root');
    expect(events.nodes.map((e) => [e.seq, e.nodeId, e.operation, e.from, e.to, e.at])).toEqual([
      [5, 'root', 'revoke', 'RUNNING', 'REVOKED', 3_000],
      [6, 'sp', 'revoke', 'RUNNING', 'REVOKED', 3_000],
      [7, 'c', 'revoke', 'RUNNING', 'REVOKED', 3_000],
    ]);
    for (const e of events.nodes) expect(e.record).toBe(store.snapshot().getNode('10', e.nodeId));
  });

  it('seq is engine-wide across tasks and event kinds, and refusals do not consume it', () => {
    const { store, at } = setup();
    const events = recordEvents(store);
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    store.start('10', 'root');
    expect(() => store.start('10', 'root')).toThrow();
    store.createTask({ id: '11', project_id: '1', name: 't', pipeline: PIPELINE });
    store.start('11', 'root');
    store.start('10', 'a');
    expect(events.tasks.map((t) => t.seq)).toEqual([1, 3]);
    expect(events.nodes.map((n) => [n.taskId, n.seq])).toEqual([
      ['10', 2],
      ['11', 4],
      ['10', 5],
    ]);
  });

  it('a listener may operate on the store (an orchestrator finishing parents as children finish)', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    store.on('node', (c) => {
      if (c.to !== 'FINISHED') return;
      const parent = { b: 'sp', c: 'sp', sp: 'root', a: undefined, root: undefined }[c.nodeId];
      const task = store.snapshot().getTask(c.taskId)!;
      const i = task.definition.indexOf(parent ?? '');
      if (parent && task.definition.end[i] > i + 1) {
        try {
          store.finish(c.taskId, parent);
        } catch {
          /* a sibling still runs */
        }
      }
    });
    const seen: [number, string, string][] = [];
    store.on('node', (c) => {
      seen.push([c.seq, c.nodeId, c.to]);
    });
    for (const n of ['root', 'sp', 'b', 'c']) at(2_000).start('10', n);
    at(2_001).finish('10', 'b');
    expect(store.snapshot().getNode('10', 'sp')!.state).toBe('RUNNING');
    at(2_002).finish('10', 'c');
    const snap = store.snapshot();
    expect(['root', 'sp', 'b', 'c'].map((n) => snap.getNode('10', n)!.state)).toEqual(['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED']);
    // every change reached every listener once (the order is pinned below)
    expect(seen.map(([seq, n, to]) => `${seq} ${n} ${to}`).sort()).toEqual([
      '2 root RUNNING',
      '3 sp RUNNING',
      '4 b RUNNING',
      '5 c RUNNING',
      '6 b FINISHED',
      '7 c FINISHED',
      '8 sp FINISHED',
      '9 root FINISHED',
    ]);
  });

  // A listener that operates on the store publishes while an event is being delivered: its
  // events must wait, or later listeners would see them before the event that caused them and a
  // consumer keeping the highest seq as its cursor would skip some.
  it('every listener receives events in seq order, also when a listener operates on the store', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    store.on('node', (c) => {
      if (c.nodeId === 'c' && c.to === 'FINISHED') store.finish('10', 'sp');
    });
    const seqs: number[] = [];
    store.on('node', (c) => {
      seqs.push(c.seq);
    });
    for (const n of ['root', 'sp', 'c']) at(2_000).start('10', n);
    at(2_001).finish('10', 'c');
    expect(seqs).toEqual([2, 3, 4, 5, 6]);
  });

  it('a listener sees the committed state', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    const seen: unknown[] = [];
    store.on('node', (c) => {
      seen.push(store.snapshot().getNode(c.taskId, c.nodeId));
    });
    const [change] = store.start('10', 'root');
    expect(seen).toEqual([change.record]);
  });
});

describe('on / off', () => {
  it('off removes exactly that listener, for that event', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    const first: NodeChange[] = [];
    const second: NodeChange[] = [];
    const tasks: TaskCreated[] = [];
    const l1 = (c: NodeChange): void => {
      first.push(c);
    };
    const l2 = (c: NodeChange): void => {
      second.push(c);
    };
    const lt = (t: TaskCreated): void => {
      tasks.push(t);
    };
    store.on('node', l1);
    store.on('node', l2);
    store.on('task', lt);
    store.start('10', 'root');
    store.off('node', l1);
    store.start('10', 'a');
    store.off('task', lt);
    store.createTask({ id: '11', project_id: '1', name: 't', pipeline: PIPELINE });
    store.off('node', l2);
    store.start('10', 'sp');
    expect(first.map((c) => c.nodeId)).toEqual(['root']);
    expect(second.map((c) => c.nodeId)).toEqual(['root', 'a']);
    expect(tasks).toEqual([]);
  });

  it('off of a listener never registered, or of the wrong event, is harmless', () => {
    const { store, at } = setup();
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    const got: string[] = [];
    const l = (c: NodeChange): void => {
      got.push(c.nodeId);
    };
    store.on('node', l);
    store.off('task', l as never);
    store.off('node', () => {});
    store.start('10', 'root');
    expect(got).toEqual(['root']);
  });
});

describe('listeners that throw', () => {
  it('are reported on stderr when no onListenerError is given, naming the event', () => {
    const written: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      written.push(args);
    });
    try {
      const store = new Store({ clock: () => 1 });
      store.createProject({ id: '1', name: 'p' });
      const boom = new Error('listener bug');
      store.on('node', () => {
        throw boom;
      });
      store.on('task', () => {
        throw boom;
      });
      store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
      store.start('10', 'root');
      expect(written).toEqual([
        ["pipestate: a listener of 'task' threw; the store is unaffected", boom],
        ["pipestate: a listener of 'node' threw; the store is unaffected", boom],
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it('neither corrupt the store nor stop the other listeners; onListenerError hears each', () => {
    const errors: [unknown, EngineEventName][] = [];
    const { store, at } = setup((e, event) => {
      errors.push([e, event]);
    });
    const boom = new Error('listener bug');
    store.on('task', () => {
      throw boom;
    });
    store.on('node', () => {
      throw boom;
    });
    const after: string[] = [];
    store.on('node', (c) => {
      after.push(c.nodeId);
    });

    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    expect(errors).toEqual([[boom, 'task']]);
    const changes = at(2_000).start('10', 'root');
    expect(changes).toHaveLength(1);
    at(2_001).start('10', 'sp');
    at(2_002).start('10', 'b');
    at(3_000).revoke('10', 'root');
    expect(after).toEqual(['root', 'sp', 'b', 'root', 'sp', 'b']);
    expect(errors.slice(1)).toEqual(Array.from({ length: 6 }, () => [boom, 'node']));

    const snap = store.snapshot();
    expect(snap.getNode('10', 'root')).toMatchObject({ state: 'REVOKED', finished_at: 3_000 });
    expect(snap.getNode('10', 'b')).toMatchObject({ state: 'REVOKED', finished_at: 3_000 });
    expect(snap.getNode('10', 'a')!.state).toBe('CREATED');
  });

  it('the store state is the same as with no listener at all', () => {
    const run = (withBadListener: boolean) => {
      const { store, at } = setup(() => {});
      if (withBadListener) {
        store.on('node', (c) => {
          // try to reach into what it was handed
          try {
            (c.record as { state: string }).state = 'FINISHED';
          } catch {
            /* frozen */
          }
          throw new Error('x');
        });
      }
      at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
      at(2_000).start('10', 'root');
      at(2_001).start('10', 'a');
      at(2_002).fail('10', 'a', { ex_data: 1 });
      at(2_003).retry('10', 'a');
      return dumpSnapshot(store.snapshot());
    };
    expect(run(true)).toEqual(run(false));
  });

  it('an onListenerError that throws is contained too', () => {
    const { store, at } = setup(() => {
      throw new Error('reporter bug');
    });
    at(1_500).createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    store.on('node', () => {
      throw new Error('listener bug');
    });
    const later: string[] = [];
    store.on('node', (c) => {
      later.push(c.nodeId);
    });
    expect(() => store.start('10', 'root')).not.toThrow();
    expect(later).toEqual(['root']);
    expect(store.snapshot().getNode('10', 'root')!.state).toBe('RUNNING');
  });
});
