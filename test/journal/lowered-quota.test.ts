/**
 * A journal replayed under a lower quota than it was written under: the recovered store holds
 * more than its quota allows (replay refuses nothing that was acknowledged), goes on ending
 * attempts where a node's history is at its cap (the oldest goes), and refuses any growth. The
 * store's own admission (Store.admit, ProjectUsage.checkExData and checkAttempt) decides this;
 * only recovery can put a store there.
 */
import { describe, expect, it } from 'vitest';
import { PIPELINE, openOver, pumped } from './helpers.js';
import { MemoryPort } from './memory-port.js';
import { refusal } from '../store/helpers.js';

async function writtenUnlimited(port: MemoryPort, checkpoint: boolean): Promise<void> {
  const { store, durability, timers } = await openOver(port, { mode: 'always' }, { limits: { maxNodeHistories: 1 } });
  store.createProject({ id: '1', name: 'p' });
  store.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
  store.start('10', 'root');
  store.start('10', 'a');
  store.fail('10', 'a', { ex_data: 'x'.repeat(30) }); // 32 bytes of JSON text
  store.retry('10', 'a'); // one ended attempt, in the history
  store.start('10', 'a');
  store.fail('10', 'a', { ex_data: 'y'.repeat(20) }); // 22 bytes more
  await pumped(timers, store.durable());
  if (checkpoint) await pumped(timers, durability.checkpoint());
  await pumped(timers, durability.close());
}

// Recovered from the journal alone (every change replayed), or from a checkpoint (histories put
// back whole, their ex_data counted as they are filled in).
describe.each([
  ['the journal', false],
  ['a checkpoint', true],
])('a store recovered from %s under a lower quota', (_, checkpoint) => {
  it('keeps what was acknowledged, lets a node at its history cap end attempts, and refuses growth', async () => {
    const port = new MemoryPort();
    await writtenUnlimited(port, checkpoint);
    if (checkpoint) expect(port.checkpoint).toBeDefined();
    const { store } = await openOver(
      port,
      { mode: 'always' },
      { limits: { maxNodeHistories: 1 }, quotas: { default: { maxExDataBytes: 10, maxHistories: 1 } } },
    );
    expect(store.quota('1')).toEqual({
      usage: { tasks: 1, nodes: 5, exDataBytes: 54, histories: 1 },
      quota: { maxTasks: 10_000, maxNodes: 1_000_000, maxExDataBytes: 10, maxHistories: 1 },
    });
    // An attempt ended at the node's history cap: the oldest goes (and its 32 bytes), the count stays.
    store.retry('10', 'a');
    expect(store.quota('1')!.usage).toEqual({ tasks: 1, nodes: 5, exDataBytes: 22, histories: 1 });
    store.start('10', 'a');
    const e = refusal(() => store.fail('10', 'a', { ex_data: 'abcd' }));
    expect([e.code, e.message]).toEqual([
      3542900,
      'quota maxExDataBytes of project 1 would be exceeded: 22 of 10 in use, this fail of node a of task 10 adds 6 bytes; delete archived tasks or raise the quota',
    ]);
    store.finish('10', 'a');
    // An attempt ended at a node below its cap adds one to the histories: refused over the quota.
    store.start('10', 'sub');
    store.start('10', 'b');
    store.fail('10', 'b');
    const h = refusal(() => store.retry('10', 'b'));
    expect([h.code, h.message]).toEqual([
      3542900,
      'quota maxHistories of project 1 would be exceeded: 1 of 1 in use, this retry of node b of task 10 ends 1 more attempt(s); delete archived tasks or raise the quota',
    ]);
    expect(store.quota('1')!.usage).toEqual({ tasks: 1, nodes: 5, exDataBytes: 22, histories: 1 });
  });
});
