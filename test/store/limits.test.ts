/**
 * The store's size limits (issue 8): one ex_data is at most 64 KiB of JSON text (refused past
 * it, naming the field and the limit), a node keeps at most 1,000 ended attempts, and the limits
 * are checked so that a page of histories always fits one answer. Also the task vector's removal,
 * which keeps nothing of the tasks removed from it.
 */
import { describe, expect, it } from 'vitest';
import { jsonTextBytes, type NodeDefinition } from '../../src/model/index.js';
import { DEFAULT_STORE_LIMITS, Store, type StoreLimits } from '../../src/store/index.js';
import { NO_CLASS, emptyTrie, get, set, unset, type Trie } from '../../src/store/trie.js';
import { refusal } from './helpers.js';

const PIPELINE: NodeDefinition = {
  id: 'r',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    { id: 'b', kind: 'activity' },
  ],
};

function running(limits: Partial<StoreLimits> = {}) {
  const store = new Store({ clock: () => 1_000, limits });
  store.createProject({ id: '1', name: 'p' });
  store.createTask({ id: '7', project_id: '1', name: 't', pipeline: PIPELINE });
  store.start('7', 'r');
  store.start('7', 'a');
  store.start('7', 'b');
  return store;
}

describe('ex_data per node', () => {
  it('defaults: 64 KiB of ex_data, 1,000 ended attempts a node, histories answered 100 at a time and at most 1,000', () => {
    expect(DEFAULT_STORE_LIMITS).toMatchObject({
      maxNodeExDataBytes: 65_536,
      maxNodeHistories: 1_000,
      historiesDefaultLimit: 100,
      historiesMaxLimit: 1_000,
    });
  });

  it('exactly the limit is kept; one byte more is refused with 3540000 naming ex_data and the limit, and nothing changes', () => {
    const store = running();
    const atLimit = { text: 'x'.repeat(65_536 - '{"text":""}'.length) };
    expect(jsonTextBytes(atLimit)).toBe(65_536);
    store.fail('7', 'a', { ex_data: atLimit });
    const before = store.snapshot();
    const over = { text: `${atLimit.text}é` }; // two bytes in UTF-8
    expect(refusal(() => store.fail('7', 'b', { ex_data: over }))).toEqual({
      code: 3540000,
      message: 'invalid ex_data: is 65538 bytes of JSON, over the limit of 65536 bytes (limits.maxNodeExDataBytes)',
    });
    expect(refusal(() => store.forcedFail('7', 'b', { ex_data: over })).code).toBe(3540000);
    expect(store.snapshot()).toBe(before);
    expect(store.snapshot().getNode('7', 'b')!.state).toBe('RUNNING');
  });

  it('the limit is configurable', () => {
    const store = running({ maxNodeExDataBytes: 10 });
    store.fail('7', 'a', { ex_data: '12345678' });
    expect(refusal(() => store.fail('7', 'b', { ex_data: '123456789' })).message).toBe(
      'invalid ex_data: is 11 bytes of JSON, over the limit of 10 bytes (limits.maxNodeExDataBytes)',
    );
  });
});

describe('the limits are checked', () => {
  it('refuses unknown limits, values that are not positive integers, and a default page above the maximum', () => {
    const message = (limits: unknown): string => refusal(() => new Store({ limits: limits as Partial<StoreLimits> })).message;
    expect(message({ maxHistories: 5 })).toMatch(/^invalid limits\.maxHistories: is not a limit \(limits are maxNodes, /);
    expect(message({ maxNodeHistories: 0 })).toBe('invalid limits.maxNodeHistories: must be a positive integer');
    expect(message({ historiesMaxLimit: 2.5 })).toBe('invalid limits.historiesMaxLimit: must be a positive integer');
    expect(message({ historiesDefaultLimit: 200, historiesMaxLimit: 100 })).toBe(
      'invalid limits.historiesDefaultLimit: must be at most limits.historiesMaxLimit (100)',
    );
  });

  it('refuses limits under which one page of histories could outgrow what one answer may hold (256 MiB)', () => {
    expect(refusal(() => new Store({ limits: { maxNodeExDataBytes: 1 << 20 } })).message).toBe(
      'invalid limits.historiesMaxLimit: a page of 1000 histories of up to 1048576 bytes of ex_data could be 1049088000 bytes, ' +
        'over the 268435456 one answer may hold: lower it or limits.maxNodeExDataBytes',
    );
    expect(() => new Store({ limits: { maxNodeExDataBytes: 1 << 20, historiesDefaultLimit: 100, historiesMaxLimit: 255 } })).not.toThrow();
    // exactly the budget is allowed: 256 × (1,048,064 + 512 bytes of entry text) = 256 MiB
    expect(() => new Store({ limits: { maxNodeExDataBytes: 1_048_064, historiesMaxLimit: 256 } })).not.toThrow();
    expect(refusal(() => new Store({ limits: { maxNodeExDataBytes: 1_048_065, historiesMaxLimit: 256 } })).message).toMatch(
      /^invalid limits\.historiesMaxLimit: a page of 256 histories of up to 1048065 bytes of ex_data could be 268435712 bytes, /,
    );
  });

  it('refuses limits that are not an object, naming the field', () => {
    for (const limits of [null, 'big', 7]) {
      expect(refusal(() => new Store({ limits: limits as unknown as Partial<StoreLimits> })).message).toBe(
        'invalid limits: must be an object',
      );
    }
  });
});

describe('removing from the task vector', () => {
  it('drops every trie node left empty, and never touches a version a snapshot holds', () => {
    const edit = {};
    // one class: every value is counted in it (as the store's task vector counts its live tasks)
    let t: Trie<string> = emptyTrie(0, 1);
    for (let i = 0; i < 2_000; i++) t = set(t, i, `v${i}`, edit, NO_CLASS, 0);
    const held = t;
    const next = {};
    let u = t;
    for (let i = 0; i < 2_000; i += 2) u = unset(u, i, next);
    for (let i = 0; i < 2_000; i++) {
      expect(get(held, i)).toBe(`v${i}`);
      expect(get(u, i)).toBe(i % 2 === 0 ? undefined : `v${i}`);
    }
    for (let i = 1; i < 2_000; i += 2) u = unset(u, i, next);
    expect(u.root).toBeUndefined();
    expect(unset(u, 5, next)).toBe(u);
    expect(get(held, 1_999)).toBe('v1999');
  });
});
