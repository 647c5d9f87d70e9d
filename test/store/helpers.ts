/** Small shared pieces of the store suites: deterministic stores and whole-state dumps. */
import type { History, NodeChange, Snapshot, Store, TaskCreated } from '../../src/store/index.js';
import type { Trie } from '../../src/store/trie.js';
import type { NodeRecord } from '../../src/lifecycle/index.js';
import { PipestateError } from '../../src/model/index.js';

/** A counter dressed as a version: 32 lowercase hex chars, 1, 2, 3, … */
export const hexVersion = (n: number): string => n.toString(16).padStart(32, '0');

export function versionCounter(): { next: () => string; readonly calls: () => number } {
  let n = 0;
  return { next: () => hexVersion(++n), calls: () => n };
}

export interface NodeDump {
  readonly record: NodeRecord;
  readonly history: readonly NodeRecord[];
}

/**
 * The values a persistent vector holds, by index, found by walking its nodes as trie.ts lays them
 * out (slots 0..31: children, or values at shift 0), not through the trie's own `get`.
 */
function vectorValues<T>(t: Trie<T>): Map<number, T> {
  const out = new Map<number, T>();
  const walk = (node: readonly unknown[] | undefined, shift: number, base: number): void => {
    if (node === undefined) return;
    for (let slot = 0; slot < 32; slot++) {
      const v = node[slot];
      if (v === undefined) continue;
      if (shift === 0) out.set(base + slot, v as T);
      else walk(v as unknown[], shift - 5, base + slot * 2 ** shift);
    }
  };
  walk(t.root, t.shift, 0);
  return out;
}

/**
 * Everything a snapshot shows about its tasks, as plain data, keyed by task then node id. Read
 * from the record and history vectors directly, not through the store's readers (recordAt,
 * historyAt): a "nothing changed" check then compares the state itself, not the store's reading
 * of it with the same reading.
 */
export function dumpSnapshot(snap: Snapshot): Map<string, Map<string, NodeDump>> {
  const out = new Map<string, Map<string, NodeDump>>();
  for (const task of snap.tasksInOrder()) {
    const records = vectorValues(task.records);
    const histories = vectorValues<History>(task.histories);
    const nodes = new Map<string, NodeDump>();
    task.definition.ids.forEach((id, i) => {
      // The queue's two lists read cell by cell: the oldest kept (oldest first), then the chain
      // from the head (newest first, so reversed).
      const head = histories.get(i);
      const attempts: NodeRecord[] = [];
      for (let c = head?.oldest; c !== undefined; c = c.next) attempts.push(c.attempt);
      const chain: NodeRecord[] = [];
      for (let c = head; c !== undefined; c = c.next) chain.push(c.attempt);
      attempts.push(...chain.reverse());
      // a deep copy that a later in-place write could not reach
      nodes.set(id, {
        record: structuredClone({ ...(records.get(i) ?? task.initial) }),
        history: attempts.map((r) => structuredClone({ ...r })),
      });
    });
    out.set(task.task.id, nodes);
  }
  return out;
}

/** Records the events a store emits. */
export function recordEvents(store: Store): { nodes: NodeChange[]; tasks: TaskCreated[]; stop: () => void } {
  const nodes: NodeChange[] = [];
  const tasks: TaskCreated[] = [];
  const onNode = (c: NodeChange): void => {
    nodes.push(c);
  };
  const onTask = (t: TaskCreated): void => {
    tasks.push(t);
  };
  store.on('node', onNode);
  store.on('task', onTask);
  return {
    nodes,
    tasks,
    stop: () => {
      store.off('node', onNode);
      store.off('task', onTask);
    },
  };
}

/** The code and message of the PipestateError `run` throws; fails the test when it throws none. */
export function refusal(run: () => unknown): { code: number; message: string } {
  try {
    run();
  } catch (e) {
    if (e instanceof PipestateError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a PipestateError, none was thrown');
}
