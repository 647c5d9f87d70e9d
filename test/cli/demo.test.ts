/** The demo run, played in process: it shows what the issue promises, and every step is accepted. */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/api/engine.js';
import { loadConfig } from '../../src/api/http/config.js';
import { DEMO_CONFIG, DEMO_PIPELINE, DEMO_STEPS, DEMO_TASK_ID, playDemo } from '../../src/cli/demo.js';
import type { NodeDefinition } from '../../src/model/index.js';

describe('the demo', () => {
  it('ships a valid configuration with project bk_biz_id 2 and one app', () => {
    const config = loadConfig(DEMO_CONFIG);
    expect(config.projects).toEqual([expect.objectContaining({ id: '1', bk_biz_id: '2' })]);
    expect(config.apps).toHaveLength(1);
  });

  it('plays to the end with every operation accepted, and covers what it promises', async () => {
    const engine = createEngine();
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'demo' });
    engine.createTask({ id: DEMO_TASK_ID, project_id: '1', name: 'demo', pipeline: DEMO_PIPELINE });
    const said: string[] = [];
    await playDemo(engine, DEMO_TASK_ID, 0, (l) => said.push(l));
    expect(said).toHaveLength(DEMO_STEPS.length);

    const snap = engine.snapshot();
    expect(snap.getNode(DEMO_TASK_ID, 'release')!.state).toBe('FINISHED');
    expect(snap.getNode(DEMO_TASK_ID, 'migrate')).toMatchObject({ state: 'FINISHED', retry: 1 });
    expect(snap.getNode(DEMO_TASK_ID, 'notify')).toMatchObject({ state: 'FINISHED', skip: true });
    expect(snap.getNode(DEMO_TASK_ID, 'health')).toMatchObject({ state: 'FINISHED', loop: 2 });

    const ops = DEMO_STEPS.flatMap((s) => s.ops.map(([op, node]) => `${op} ${node}`));
    for (const expected of [
      'fail migrate',
      'retry migrate',
      'pause fleet',
      'resume fleet',
      'reenter health',
      'fail notify',
      'skip notify',
    ]) {
      expect(ops).toContain(expected);
    }
    // parallel activities: two activities started in one step
    expect(DEMO_STEPS.some((s) => s.ops.filter(([op]) => op === 'start').length >= 2 && s.ops.every(([op]) => op === 'start'))).toBe(true);
    // a subprocess nested two levels deep
    const depth = (n: NodeDefinition): number => (n.kind === 'subprocess' ? 1 : 0) + Math.max(0, ...(n.children ?? []).map(depth));
    expect(depth(DEMO_PIPELINE)).toBe(2);
  });
});
