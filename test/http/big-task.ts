/**
 * A large task for the load-shaped tests: `subs` subprocesses of `leaves` activities under the
 * root, every node started, so every node is answered (about 300 bytes of JSON each). The clock
 * stands still unless the test moves it, so an answer computed in process equals the service's.
 */
import { createEngine, type Engine } from '../../src/api/engine.js';
import type { NodeDefinition } from '../../src/model/index.js';

export interface BigTask {
  readonly engine: Engine;
  /** leaf ids, in preorder */
  readonly leaves: readonly string[];
  tick(ms: number): void;
}

export function bigTask(subs: number, leaves: number, taskId = '10'): BigTask {
  let now = Date.UTC(2024, 0, 1, 4, 0, 0);
  let v = 0;
  const engine = createEngine({ clock: () => now, rerunLimit: 1_000_000, newVersion: () => (++v).toString(16).padStart(32, '0') });
  engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
  engine.createProject({ id: '3', bk_biz_id: '4', name: 'three' });
  const ids: string[] = [];
  const children: NodeDefinition[] = [];
  for (let s = 0; s < subs; s++) {
    const kids: NodeDefinition[] = [];
    for (let l = 0; l < leaves; l++) {
      const id = `n${s}x${l}`;
      ids.push(id);
      kids.push({ id, name: `step ${l} of stage ${s}`, kind: 'activity' });
    }
    children.push({ id: `s${s}`, name: `stage ${s}`, kind: 'subprocess', children: kids });
  }
  engine.createTask({ id: taskId, project_id: '1', name: 'big', pipeline: { id: 'root', name: 'big', kind: 'pipeline', children } });
  engine.start(taskId, 'root');
  for (let s = 0; s < subs; s++) {
    engine.start(taskId, `s${s}`);
    for (let l = 0; l < leaves; l++) engine.start(taskId, `n${s}x${l}`);
  }
  return {
    engine,
    leaves: ids,
    tick: (ms) => {
      now += ms;
    },
  };
}
