/**
 * The seed example of get_task_status (../shared/seed/get_task_status.md, copied to
 * seed-get-task-status.json) rebuilt with the same ids, names, states and times, and compared key
 * for key, in order. Two root fields differ, both explained in SPEC §3.2: the seed's older engine
 * gave the root an empty version and refreshed its time when a child blocked it; here the root is
 * a node like any other, with its own version and the time it last changed (its start).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CTX, T0, clockedEngine, version, withProjects } from './helpers.js';

const seed = JSON.parse(readFileSync(new URL('./seed-get-task-status.json', import.meta.url), 'utf8'));

const ROOT = 'ndf194ddb9e6365da1902dbd51610e9a';
const START_EVENT = 'n00e3a0396403a19a4517d8e2eb0b015';
const TIMER = 'nb346e202d17387082189f95dd3f80ca';

/** The seed's run: the root starts at T0 (…53.200Z), the start event runs, the timer fails. */
function seedEngine() {
  // The attempt versions of the seed's children, in the order the nodes start.
  const versions = [version(1), '22daf98a558737e39a5ae8d3876fac7d', 'e74df19258f535509cb104ad1ca94f00'];
  const c = withProjects(clockedEngine(T0, { newVersion: () => versions.shift() ?? version(99) }));
  c.engine.createTask({
    id: '10',
    project_id: '1',
    // The answered root is named after its task (SPEC §3.2): give the task the seed root's name.
    name: "<class 'pipeline.core.pipeline.Pipeline'>",
    pipeline: {
      id: ROOT,
      kind: 'pipeline',
      children: [
        { id: START_EVENT, kind: 'event', name: "<class 'pipeline.core.flow.event.EmptyStartEvent'>" },
        { id: TIMER, kind: 'activity', name: '定时' },
      ],
    },
  });
  const e = c.engine;
  e.start('10', ROOT);
  c.at(T0 + 50);
  e.start('10', START_EVENT);
  c.at(T0 + 54);
  e.finish('10', START_EVENT);
  c.at(T0 + 70);
  e.start('10', TIMER);
  c.at(T0 + 79);
  e.fail('10', TIMER, { ex_data: '定时时间需晚于当前时间' });
  return c;
}

describe('the seed example rebuilt', () => {
  it('answers the seed JSON key for key, in order, except the two root fields SPEC §3.2 explains', () => {
    const c = seedEngine();
    c.at(T0 + 55_035_000);
    const env = c.engine.getTaskStatus(
      {
        bk_app_code: 'esb_test',
        bk_app_secret: 'xxx',
        bk_token: 'xxx',
        bk_username: 'xxx',
        bk_biz_id: '2',
        task_id: '10',
        with_ex_data: true,
        scope: 'cmdb_biz',
      },
      CTX,
    );
    const expected = structuredClone(seed.data);
    expected.version = version(1);
    expected.state_refresh_at = '2020-08-17T12:13:53.200Z';
    expect(JSON.stringify(env.data)).toBe(JSON.stringify(expected));
    expect(env).toMatchObject({ result: true, code: 0, message: '', request_id: 'req', trace_id: 'trace' });
    expect(Object.keys(env)).toEqual(['result', 'data', 'code', 'message', 'request_id', 'trace_id']);
  });

  it('differs from the seed only in the root version and state_refresh_at', () => {
    const c = seedEngine();
    c.at(T0 + 55_035_000);
    const data = JSON.parse(JSON.stringify(c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_ex_data: 'true' }).data));
    const diffs: string[] = [];
    const walk = (a: unknown, b: unknown, path: string): void => {
      if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
        expect(Object.keys(a), path).toEqual(Object.keys(b));
        for (const k of Object.keys(a)) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      } else if (a !== b) diffs.push(path);
    };
    walk(data, seed.data, 'data');
    expect(diffs).toEqual(['data.version', 'data.state_refresh_at']);
    expect(data.version).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers the root elapsed time from the clock while it runs: 55035 s after its start', () => {
    const c = seedEngine();
    c.at(T0 + 55_035_499);
    expect(c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data!.elapsed_time).toBe(55035);
    c.at(T0 + 55_035_500); // 55035.5 rounds to the even 55036
    expect(c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10' }).data!.elapsed_time).toBe(55036);
  });

  it('leaves ex_data out unless asked', () => {
    const c = seedEngine();
    for (const with_ex_data of [undefined, false, 'false', '0', '', null]) {
      const data = c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_ex_data }).data!;
      expect(data.state).toBe('FAILED');
      expect('ex_data' in data).toBe(false);
    }
  });
});
