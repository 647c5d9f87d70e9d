/**
 * Snapshots (SPEC §1: "a reader holding a snapshot never sees it change"), by example. The
 * property suites check the same at random; these name the cases: the copy made right after a
 * snapshot, the in-place writes that follow it, histories, registries, versions, options.
 */
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '../../src/model/index.js';
import { PipestateError } from '../../src/model/index.js';
import { Store, VERSION_PATTERN, randomVersion } from '../../src/store/index.js';
import { dumpSnapshot, hexVersion, versionCounter } from './helpers.js';

const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    { id: 'sp', kind: 'subprocess', children: [{ id: 'b', kind: 'activity' }] },
  ],
};

function setup() {
  let now = 1_000;
  const store = new Store({ clock: () => ++now, newVersion: versionCounter().next });
  store.createProject({ id: '1', bk_biz_id: '2', name: 'p' });
  store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
  return store;
}

describe('snapshots', () => {
  it('are the same object until the next change', () => {
    const store = setup();
    const s1 = store.snapshot();
    expect(store.snapshot()).toBe(s1);
    store.start('10', 'root');
    const s2 = store.snapshot();
    expect(s2).not.toBe(s1);
    expect(store.snapshot()).toBe(s2);
  });

  it('never change: not on the first write after them, nor on the in-place writes that follow', () => {
    const store = setup();
    store.start('10', 'root');
    store.start('10', 'a');
    const s1 = store.snapshot();
    const before = dumpSnapshot(s1);
    const aBefore = s1.getNode('10', 'a');
    store.fail('10', 'a', { ex_data: 'x' }); // copies the path s1 holds
    store.retry('10', 'a'); // no snapshot since: written in place
    store.start('10', 'a');
    store.start('10', 'sp');
    store.start('10', 'b');
    expect(s1.getNode('10', 'a')).toBe(aBefore);
    expect(s1.getNode('10', 'a')!.state).toBe('RUNNING');
    expect(s1.getHistory('10', 'a')).toEqual([]);
    expect(s1.getNode('10', 'b')!.state).toBe('CREATED');
    expect(dumpSnapshot(s1)).toEqual(before);

    const s2 = store.snapshot();
    expect(s2.getNode('10', 'a')).toMatchObject({ state: 'RUNNING', retry: 1, version: hexVersion(3) });
    expect(s2.getHistory('10', 'a')!.map((r) => r.state)).toEqual(['FAILED']);
    expect(s2.getNode('10', 'b')!.state).toBe('RUNNING');
  });

  it('share every record that did not change', () => {
    const store = setup();
    store.start('10', 'root');
    const s1 = store.snapshot();
    store.start('10', 'a');
    const s2 = store.snapshot();
    expect(s2.getNode('10', 'root')).toBe(s1.getNode('10', 'root'));
    expect(s2.getNode('10', 'b')).toBe(s1.getNode('10', 'b'));
    expect(s2.getTask('10')!.definition).toBe(s1.getTask('10')!.definition);
    expect(s2.getNode('10', 'a')).not.toBe(s1.getNode('10', 'a'));
  });

  it('see only the projects and tasks registered before them', () => {
    const store = setup();
    const s1 = store.snapshot();
    store.createProject({ id: '3', bk_biz_id: '4', name: 'q' });
    store.createTask({ id: '11', project_id: '3', name: 'u', pipeline: PIPELINE });
    const s2 = store.snapshot();
    expect(s1.getProject('3')).toBeUndefined();
    expect(s1.getProjectByBizId('4')).toBeUndefined();
    expect(s1.getTask('11')).toBeUndefined();
    expect(s1.getNode('11', 'root')).toBeUndefined();
    expect(s1.size).toBe(1);
    expect(s2.getProject('3')).toEqual({ id: '3', bk_biz_id: '4', name: 'q', time_zone: 'Asia/Shanghai' });
    expect(s2.getProjectByBizId('4')!.id).toBe('3');
    expect(s2.getProjectByBizId('3')).toBeUndefined();
    expect(s2.getTask('11')!.task).toEqual({ id: '11', project_id: '3', name: 'u', created_at: 1_002 });
    expect(s2.size).toBe(2);
    expect([...s2.tasksInOrder()].map((t) => t.task.id)).toEqual(['10', '11']);
    expect([s1.projectsInOrder().map((p) => p.id), s2.projectsInOrder().map((p) => p.id)]).toEqual([['1'], ['1', '3']]);
  });

  it('a project registered after a snapshot is in the next one, and only there', () => {
    const store = setup();
    const before = store.snapshot();
    const project = store.createProject({ id: '3', bk_biz_id: '4', name: 'q', time_zone: 'UTC' });
    const after = store.snapshot();
    expect(after).not.toBe(before);
    expect(after.getProject('3')).toBe(project);
    expect(after.getProjectByBizId('4')).toBe(project);
    expect(before.getProject('3')).toBeUndefined();
    expect(before.getProjectByBizId('4')).toBeUndefined();
    expect(Object.isFrozen(project)).toBe(true);
    expect(project).toEqual({ id: '3', bk_biz_id: '4', name: 'q', time_zone: 'UTC' });
  });

  it('hand out frozen records, and ex_data the caller cannot reach', () => {
    const store = setup();
    store.start('10', 'root');
    store.start('10', 'a');
    const exData = { nested: { list: [1] } };
    store.fail('10', 'a', { ex_data: exData });
    exData.nested.list.push(2);
    const record = store.snapshot().getNode('10', 'a')!;
    expect(record.ex_data).toEqual({ nested: { list: [1] } });
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.isFrozen((record.ex_data as { nested: object }).nested)).toBe(true);
    expect(() => {
      (record as { state: string }).state = 'RUNNING';
    }).toThrow(TypeError);
  });
});

describe('versions', () => {
  it('randomVersion gives distinct 32-hex strings, also across pool refills', () => {
    const seen = new Set<string>();
    // 16 bytes per version: 5,000 drain the 64 KiB pool (4,096 versions) and refill it once
    for (let i = 0; i < 5_000; i++) {
      const v = randomVersion();
      expect(v).toMatch(/^[0-9a-f]{32}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(5_000);
  });

  it('VERSION_PATTERN is exactly 32 lowercase hex digits', () => {
    for (const good of ['0'.repeat(32), 'f'.repeat(32), '0123456789abcdef'.repeat(2)]) expect(VERSION_PATTERN.test(good), good).toBe(true);
    for (const bad of [
      '',
      'A'.repeat(32),
      'a'.repeat(31),
      'a'.repeat(33),
      `${'a'.repeat(31)}g`,
      `${'a'.repeat(32)}\n`,
      ` ${'a'.repeat(32)}`,
    ]) {
      expect(VERSION_PATTERN.test(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('a store without newVersion uses random versions', () => {
    const store = new Store({ clock: () => 5 });
    store.createProject({ id: '1', name: 'p' });
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: PIPELINE });
    const [change] = store.start('10', 'root');
    expect(change.record.version).toMatch(/^[0-9a-f]{32}$/);
    const [other] = store.start('10', 'a');
    expect(other.record.version).toMatch(/^[0-9a-f]{32}$/);
    expect(other.record.version).not.toBe(change.record.version);
  });
});

describe('options', () => {
  it('rerunLimit must be a positive integer', () => {
    for (const rerunLimit of [0, -1, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        new Store({ rerunLimit });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PipestateError);
      expect((error as PipestateError).code).toBe(3540000);
      expect((error as PipestateError).message).toBe('invalid rerunLimit: must be a positive integer');
    }
  });
});

describe('the dump the "nothing changed" checks use', () => {
  it('reads, from the vectors themselves, what getNode and getHistory read (tries one to three levels deep)', () => {
    const leaves = (n: number): NodeDefinition[] => Array.from({ length: n }, (_, k) => ({ id: `l${k}`, kind: 'activity' }));
    const store = new Store({ clock: () => 7, newVersion: versionCounter().next });
    store.createProject({ id: '1', name: 'p' });
    for (const [id, n] of [
      ['10', 3],
      ['11', 40],
      ['12', 1_100],
    ] as const) {
      store.createTask({ id, project_id: '1', name: id, pipeline: { id: 'root', kind: 'pipeline', children: leaves(n) } });
      store.start(id, 'root');
      for (const k of new Set([0, 1, n - 1, Math.floor(n / 2)])) {
        store.start(id, `l${k}`);
        store.fail(id, `l${k}`, { ex_data: { k } });
        store.retry(id, `l${k}`);
        store.start(id, `l${k}`);
      }
    }
    const snap = store.snapshot();
    const dump = dumpSnapshot(snap);
    expect([...dump.keys()]).toEqual(['10', '11', '12']);
    let withHistory = 0;
    for (const [taskId, nodes] of dump) {
      expect(nodes.size).toBe(snap.getTask(taskId)!.definition.size);
      for (const [nodeId, { record, history }] of nodes) {
        expect(record).toEqual(snap.getNode(taskId, nodeId));
        expect(history).toEqual(snap.getHistory(taskId, nodeId));
        if (history.length > 0) withHistory++;
      }
    }
    expect(withHistory).toBe(3 + 4 + 4);
    expect(dump.get('12')!.get('l1099')!.history[0]).toMatchObject({ state: 'FAILED', ex_data: { k: 1099 } });
  });
});
