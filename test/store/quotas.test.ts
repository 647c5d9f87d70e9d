/**
 * Quotas per project (issue 8): the defaults, each quota refusing with 3542900 and a message
 * naming the quota, the project, the limit and what the change adds, and nothing changing when
 * refused; usage counted as it changes; the quota table checked like any other input.
 */
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../src/model/index.js';
import { DEFAULT_QUOTA, Store, quotasOf, type QuotaTable, type StoreOptions } from '../../src/store/index.js';
import { ProjectUsage } from '../../src/store/quota.js';
import { recordEvents, refusal, versionCounter } from './helpers.js';

const leaves = (n: number): NodeDefinition => ({
  id: 'r',
  kind: 'pipeline',
  children: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, kind: 'activity' as const })),
});

function setup(quotas: QuotaTable, options: StoreOptions = {}) {
  let now = 1_000;
  const store = new Store({ clock: () => ++now, newVersion: versionCounter().next, quotas, ...options });
  store.createProject({ id: '1', name: 'p' });
  store.createProject({ id: '3', name: 'q' });
  return store;
}

/** Runs a command that must be refused, and checks that nothing changed: snapshot, usage, events. */
function refusedUnchanged(store: Store, run: () => unknown): string {
  const before = store.snapshot();
  const usage = [store.quota('1'), store.quota('3')];
  const events = recordEvents(store);
  const r = refusal(run);
  events.stop();
  expect(r.code).toBe(3542900);
  expect(store.snapshot()).toBe(before);
  expect([store.quota('1'), store.quota('3')]).toEqual(usage);
  expect([events.nodes, events.tasks]).toEqual([[], []]);
  return r.message;
}

describe('quotas', () => {
  it('default: 10,000 tasks, 1,000,000 nodes, 128 MiB of ex_data, 500,000 ended attempts per project', () => {
    expect(DEFAULT_QUOTA).toEqual({ maxTasks: 10_000, maxNodes: 1_000_000, maxExDataBytes: 134_217_728, maxHistories: 500_000 });
    const store = new Store();
    store.createProject({ id: '1', name: 'p' });
    expect(store.quota('1')).toEqual({ usage: { tasks: 0, nodes: 0, exDataBytes: 0, histories: 0 }, quota: DEFAULT_QUOTA });
    expect(store.quota('2')).toBeUndefined();
  });

  it('maxTasks: a task past it is refused, naming the quota, project and limit; the id is not used up', () => {
    const store = setup({ default: { maxTasks: 2 } });
    store.createTask({ project_id: '1', name: 'a', pipeline: leaves(1) });
    store.createTask({ project_id: '1', name: 'b', pipeline: leaves(1) });
    expect(refusedUnchanged(store, () => store.createTask({ project_id: '1', name: 'c', pipeline: leaves(1) }))).toBe(
      'quota maxTasks of project 1 would be exceeded: 2 of 2 in use, task 3 adds 1; delete archived tasks or raise the quota',
    );
    // another project has its own count
    expect(store.createTask({ project_id: '3', name: 'c', pipeline: leaves(1) }).id).toBe('3');
    store.deleteTask('1');
    expect(store.createTask({ project_id: '1', name: 'd', pipeline: leaves(1) }).id).toBe('4');
  });

  it('maxNodes: counts the nodes of every live task, root included', () => {
    const store = setup({ default: { maxNodes: 10 } });
    store.createTask({ id: '7', project_id: '1', name: 'a', pipeline: leaves(5) });
    expect(refusedUnchanged(store, () => store.createTask({ id: '8', project_id: '1', name: 'b', pipeline: leaves(4) }))).toBe(
      'quota maxNodes of project 1 would be exceeded: 6 of 10 in use, task 8 adds 5; delete archived tasks or raise the quota',
    );
    store.createTask({ id: '8', project_id: '1', name: 'b', pipeline: leaves(3) });
    expect(store.quota('1')!.usage.nodes).toBe(10);
  });

  it('maxExDataBytes: a failure whose ex_data would go past it is refused, and the node stays RUNNING', () => {
    const store = setup({ default: { maxExDataBytes: 20 } });
    store.createTask({ id: '7', project_id: '1', name: 'a', pipeline: leaves(2) });
    store.start('7', 'r');
    store.start('7', 'n0');
    store.fail('7', 'n0', { ex_data: 'x'.repeat(10) }); // 12 bytes: "xxxxxxxxxx"
    store.start('7', 'n1');
    expect(refusedUnchanged(store, () => store.fail('7', 'n1', { ex_data: 'y'.repeat(8) }))).toBe(
      'quota maxExDataBytes of project 1 would be exceeded: 12 of 20 in use, this fail of node n1 of task 7 adds 10 bytes; delete archived tasks or raise the quota',
    );
    expect(store.snapshot().getNode('7', 'n1')!.state).toBe('RUNNING');
    store.fail('7', 'n1', { ex_data: 'y'.repeat(6) });
    expect(store.quota('1')!.usage.exDataBytes).toBe(20);
    // a failure without data needs no room; a retry keeps the data in the history
    store.retry('7', 'n0');
    expect(store.quota('1')!.usage).toMatchObject({ exDataBytes: 20, histories: 1 });
  });

  it('maxHistories: a retry that would keep one more ended attempt past it is refused', () => {
    const store = setup({ default: { maxHistories: 1 } });
    store.createTask({ id: '7', project_id: '1', name: 'a', pipeline: leaves(1) });
    store.start('7', 'r');
    store.start('7', 'n0');
    store.fail('7', 'n0');
    store.retry('7', 'n0');
    store.start('7', 'n0');
    store.fail('7', 'n0');
    expect(refusedUnchanged(store, () => store.retry('7', 'n0'))).toBe(
      'quota maxHistories of project 1 would be exceeded: 1 of 1 in use, this retry of node n0 of task 7 ends 1 more attempt(s); delete archived tasks or raise the quota',
    );
    // skipping ends no attempt
    store.skip('7', 'n0');
  });

  it('a node at its history cap drops its oldest attempt: the count stays and the dropped ex_data is given back', () => {
    const store = setup({ default: { maxHistories: 2, maxExDataBytes: 1_000 } }, { limits: { maxNodeHistories: 2 } });
    store.createTask({ id: '7', project_id: '1', name: 'a', pipeline: leaves(1) });
    store.start('7', 'r');
    const cycle = (exData: string): void => {
      store.start('7', 'n0');
      store.fail('7', 'n0', { ex_data: exData });
      store.retry('7', 'n0');
    };
    cycle('a'.repeat(98)); // 100 bytes
    cycle('b'.repeat(48)); // 50 bytes
    expect(store.quota('1')!.usage).toMatchObject({ histories: 2, exDataBytes: 150 });
    cycle('c'.repeat(8)); // 10 bytes in, the 100 of the oldest out
    expect(store.quota('1')!.usage).toMatchObject({ histories: 2, exDataBytes: 60 });
    expect(store.snapshot().getHistoryPage('7', 'n0')).toMatchObject({ total: 2, dropped: 1 });
    // a page: newest-first positions, answered oldest first; limit 0 is an empty page with the counts
    const page = (offset: number, limit: number) => store.snapshot().getHistoryPage('7', 'n0', offset, limit);
    expect(page(0, 1)?.attempts.map((r) => r.ex_data)).toEqual(['c'.repeat(8)]);
    expect(page(1, 5)?.attempts.map((r) => r.ex_data)).toEqual(['b'.repeat(48)]);
    expect(page(0, 0)).toEqual({ attempts: [], total: 2, dropped: 1 });
    expect([store.snapshot().getHistoryPage('7', 'nope'), store.snapshot().getHistoryPage('8', 'n0')]).toEqual([undefined, undefined]);
    expect(store.snapshot().getHistoryPage('7', 'r')).toEqual({ attempts: [], total: 0, dropped: 0 }); // the root: node 0
    for (const [offset, limit, field] of [
      [-1, 1, 'offset'],
      [0.5, 1, 'offset'],
      [0, -1, 'limit'],
      [0, Number.NaN, 'limit'],
    ] as const) {
      expect(refusal(() => page(offset, limit)).message).toBe(`invalid ${field}: must be a non-negative integer`);
    }
    expect(
      store
        .snapshot()
        .getHistory('7', 'n0')!
        .map((r) => r.ex_data),
    ).toEqual(['b'.repeat(48), 'c'.repeat(8)]);
  });

  it('a project may have its own quota over the default, which is over the built-in one', () => {
    const store = setup({ default: { maxTasks: 1 }, projects: { 3: { maxNodes: 3 } } });
    expect(store.quota('1')!.quota).toEqual({ ...DEFAULT_QUOTA, maxTasks: 1 });
    expect(store.quota('3')!.quota).toEqual({ ...DEFAULT_QUOTA, maxTasks: 1, maxNodes: 3 });
  });

  it('the quota table is checked: unknown keys and values that are not positive integers are refused naming the field', () => {
    const invalid = (table: unknown): string => refusal(() => quotasOf(table as QuotaTable)).message;
    expect(invalid({ default: { maxTask: 1 } })).toBe(
      'invalid quotas.default.maxTask: is not a quota (quotas are maxTasks, maxNodes, maxExDataBytes, maxHistories)',
    );
    expect(invalid({ defaults: {} })).toBe('invalid quotas.defaults: is not known (known: default, projects)');
    expect(invalid({ default: { maxTasks: 0 } })).toBe('invalid quotas.default.maxTasks: must be a positive integer');
    expect(invalid({ default: { maxNodes: 1.5 } })).toBe('invalid quotas.default.maxNodes: must be a positive integer');
    expect(invalid({ projects: { 1: { maxExDataBytes: '10' } } })).toBe(
      'invalid quotas.projects.1.maxExDataBytes: must be a positive integer',
    );
    expect(invalid({ projects: [] })).toBe('invalid quotas.projects: must be an object keyed by project id');
    expect(invalid({ default: null })).toBe('invalid quotas.default: must be an object');
    expect(invalid('x')).toBe('invalid quotas: must be an object');
    expect(refusal(() => new Store({ quotas: { default: { maxTasks: -1 } } })).code).toBe(3540000);
  });

  it('ex_data replaced without ending an attempt is counted as the difference (the rerun limit message over an ignored failure)', () => {
    let now = 1_000;
    const store = new Store({ clock: () => ++now, newVersion: versionCounter().next, rerunLimit: 1 });
    store.createProject({ id: '1', name: 'p' });
    const pipeline: NodeDefinition = { id: 'r', kind: 'pipeline', children: [{ id: 'n', kind: 'activity', error_ignorable: true }] };
    store.createTask({ id: '7', project_id: '1', name: 'a', pipeline });
    store.start('7', 'r');
    store.start('7', 'n');
    store.fail('7', 'n', { ex_data: 'x'.repeat(100) }); // ignored: FINISHED, 102 bytes kept
    expect([store.snapshot().getNode('7', 'n')?.state, store.quota('1')!.usage.exDataBytes]).toEqual(['FINISHED', 102]);
    store.reenter('7', 'n'); // at the rerun limit: FAILED, its ex_data the limit's message
    const node = store.snapshot().getNode('7', 'n')!;
    expect([node.state, node.ex_data]).toEqual(['FAILED', 'node execution exceed rerun limit 1']);
    expect(store.quota('1')!.usage).toEqual({ tasks: 1, nodes: 2, exDataBytes: 37, histories: 0 });
  });

  it('over its quota (a journal replayed under a lower one), a project may still hold as much ex_data or less, never more', () => {
    // test/journal/lowered-quota.test.ts puts a store there by recovery; this pins the rule itself.
    const usage = new ProjectUsage('1', { ...DEFAULT_QUOTA, maxExDataBytes: 10 });
    usage.exDataBytes = 20;
    usage.checkExData('fail', '7', 'n0', 0);
    usage.checkExData('reenter', '7', 'n0', -5);
    expect(refusal(() => usage.checkExData('fail', '7', 'n0', 1)).message).toBe(
      'quota maxExDataBytes of project 1 would be exceeded: 20 of 10 in use, this fail of node n0 of task 7 adds 1 bytes; delete archived tasks or raise the quota',
    );
    expect(usage.exDataBytes).toBe(20);
  });

  it('"__proto__" is a project id like any other', () => {
    const quota = quotasOf(JSON.parse('{"projects": {"__proto__": {"maxTasks": 5}}}') as QuotaTable);
    expect(quota('__proto__').maxTasks).toBe(5);
    expect(quota('1').maxTasks).toBe(DEFAULT_QUOTA.maxTasks);
    expect(({} as Record<string, unknown>).maxTasks).toBeUndefined();
  });
});
