/** Small shared pieces of the store suites: deterministic stores and whole-state dumps. */
import { historyAt, recordAt, type NodeChange, type Snapshot, type TaskCreated, type Store } from '../../src/store/index.js';
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

/** Everything a snapshot shows about its tasks, as plain data, keyed by task then node id. */
export function dumpSnapshot(snap: Snapshot): Map<string, Map<string, NodeDump>> {
  const out = new Map<string, Map<string, NodeDump>>();
  for (const task of snap.tasksInOrder()) {
    const nodes = new Map<string, NodeDump>();
    for (let i = 0; i < task.definition.size; i++) {
      // spread: a deep copy that a later in-place write could not reach
      nodes.set(task.definition.ids[i], {
        record: structuredClone({ ...recordAt(task, i) }),
        history: historyAt(task, i).map((r) => structuredClone({ ...r })),
      });
    }
    out.set(task.task.id, nodes);
  }
  return out;
}

/** Records the events a store emits. */
export function recordEvents(store: Store): { nodes: NodeChange[]; tasks: TaskCreated[]; stop: () => void } {
  const nodes: NodeChange[] = [];
  const tasks: TaskCreated[] = [];
  const onNode = (c: NodeChange): void => { nodes.push(c); };
  const onTask = (t: TaskCreated): void => { tasks.push(t); };
  store.on('node', onNode);
  store.on('task', onTask);
  return { nodes, tasks, stop: () => { store.off('node', onNode); store.off('task', onTask); } };
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
