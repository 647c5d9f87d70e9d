/** Authentication and isolation: apps, users, which projects an app sees, --no-auth. */
import { afterEach, describe, expect, it } from 'vitest';
import { ALPHA, BETA, ENVELOPE_KEYS, ESB, OPS, harness, qs, send, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const refusedAs = (reply: { status: number; json: Record<string, unknown> | undefined }, code: number) => {
  expect(reply.status).toBe(200);
  expect(Object.keys(reply.json!)).toEqual(ENVELOPE_KEYS);
  expect(reply.json).toMatchObject({ result: false, code, data: null });
  return String(reply.json!.message);
};

describe('authentication', () => {
  const cases: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['an unknown app', { bk_app_code: 'mallory', bk_app_secret: 'alpha-secret', bk_username: 'm' }],
    ['a wrong secret', { bk_app_code: 'alpha', bk_app_secret: 'alpha-secreT', bk_username: 'alice' }],
    ['a secret of another app', { bk_app_code: 'alpha', bk_app_secret: 'beta-secret', bk_username: 'alice' }],
    ['a prefix of the secret', { bk_app_code: 'alpha', bk_app_secret: 'alpha', bk_username: 'alice' }],
    ['an empty secret', { bk_app_code: 'alpha', bk_app_secret: '', bk_username: 'alice' }],
    ['no secret', { bk_app_code: 'alpha', bk_username: 'alice' }],
    ['no bk_username', { bk_app_code: 'alpha', bk_app_secret: 'alpha-secret' }],
    ['a blank bk_username', { bk_app_code: 'alpha', bk_app_secret: 'alpha-secret', bk_username: '  ' }],
  ];
  for (const [what, params] of cases) {
    it(`refuses ${what} with 3540100 on every API route, changing nothing`, async () => {
      h = await harness();
      const before = h.engine.snapshot();
      refusedAs(await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(params) }), 3540100);
      refusedAs(await send(h.base, 'GET', ESB('get_task_status'), { query: qs({ ...params, bk_biz_id: '2', task_id: '10' }) }), 3540100);
      refusedAs(await send(h.base, 'POST', '/operate_task/10/2/', { body: { ...params, action: 'pause' } }), 3540100);
      refusedAs(await send(h.base, 'POST', '/node_event/10/2/', { body: { ...params, node_id: 'root', event: 'start' } }), 3540100);
      refusedAs(
        await send(h.base, 'POST', '/create_task/2/', { body: { ...params, name: 'x', pipeline: { id: 'p', kind: 'pipeline' } } }),
        3540100,
      );
      refusedAs(await send(h.base, 'POST', '/delete_task/10/2/', { body: params }), 3540100);
      refusedAs(await send(h.base, 'GET', '/watch_task_status/10/2/', { query: qs(params) }), 3540100);
      expect(h.engine.snapshot()).toBe(before);
    });
  }

  it('the message says credentials are wrong without saying which part', async () => {
    h = await harness();
    const unknownApp = refusedAs(
      await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs({ ...ALPHA, bk_app_code: 'nobody' }) }),
      3540100,
    );
    const wrongSecret = refusedAs(
      await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs({ ...ALPHA, bk_app_secret: 'nope' }) }),
      3540100,
    );
    expect(unknownApp).toBe(wrongSecret);
    expect(unknownApp).not.toMatch(/alpha|secret=/);
  });

  it('a malformed X-Bkapi-Authorization header is refused with 3540100', async () => {
    h = await harness();
    for (const header of ['{', '[]', '"x"', 'null']) {
      refusedAs(await send(h.base, 'GET', '/get_task_status/10/2/', { headers: { 'X-Bkapi-Authorization': header } }), 3540100);
    }
  });

  it('with no apps configured every call is refused (the safe default)', async () => {
    h = await harness({ apps: [] });
    refusedAs(await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) }), 3540100);
  });
});

describe('isolation between projects and apps', () => {
  it('an app sees only its projects: another project is refused with 3540100', async () => {
    h = await harness();
    // alpha may see project 1 (business 2) only; beta project 3 (business 4) only
    expect((await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) })).json!.result).toBe(true);
    refusedAs(await send(h.base, 'GET', '/get_task_status/30/4/', { query: qs(ALPHA) }), 3540100);
    refusedAs(await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(BETA) }), 3540100);
    expect((await send(h.base, 'GET', '/get_task_status/30/4/', { query: qs(BETA) })).json!.result).toBe(true);
    refusedAs(
      await send(h.base, 'GET', ESB('get_task_status'), { query: qs({ ...ALPHA, bk_biz_id: '3', task_id: '30', scope: 'project' }) }),
      3540100,
    );
  });

  it('an app allowed everything sees every project', async () => {
    h = await harness();
    for (const path of ['/get_task_status/10/2/', '/get_task_status/30/4/']) {
      expect((await send(h.base, 'GET', path, { query: qs(OPS) })).json!.result).toBe(true);
    }
  });

  it('a task of another project, named through a visible project, is answered as a missing task', async () => {
    h = await harness();
    const foreign = refusedAs(await send(h.base, 'GET', '/get_task_status/30/2/', { query: qs(ALPHA) }), 3540400);
    const missing = refusedAs(await send(h.base, 'GET', '/get_task_status/99/2/', { query: qs(ALPHA) }), 3540400);
    expect(foreign.replace('30', 'N')).toBe(missing.replace('99', 'N'));
    const event = refusedAs(
      await send(h.base, 'POST', '/node_event/30/2/', { body: { ...ALPHA, node_id: 'root', event: 'start' } }),
      3540400,
    );
    const eventMissing = refusedAs(
      await send(h.base, 'POST', '/node_event/99/2/', { body: { ...ALPHA, node_id: 'root', event: 'start' } }),
      3540400,
    );
    expect(event.replace('30', 'N')).toBe(eventMissing.replace('99', 'N'));
    refusedAs(await send(h.base, 'POST', '/operate_task/30/2/', { body: { ...ALPHA, action: 'pause' } }), 3540400);
    refusedAs(await send(h.base, 'POST', '/operate_node/2/30/', { body: { ...ALPHA, node_id: 'a', action: 'pause' } }), 3540400);
    refusedAs(await send(h.base, 'GET', '/watch_task_status/30/2/', { query: qs(ALPHA) }), 3540400);
    expect(h.engine.snapshot().getNode('30', 'root')!.state).toBe('CREATED');
  });

  it('an app cannot register a task in a project it may not see', async () => {
    h = await harness();
    const before = h.engine.snapshot();
    refusedAs(
      await send(h.base, 'POST', '/create_task/4/', { body: { ...ALPHA, name: 'x', pipeline: { id: 'p', kind: 'pipeline' } } }),
      3540100,
    );
    expect(h.engine.snapshot()).toBe(before);
  });
});

describe("create_task across projects (ids are the service's)", () => {
  const pipeline = { id: 'p', kind: 'pipeline' };
  const createAs = (who: Record<string, string>, biz: string, extra: Record<string, unknown> = {}) =>
    send(h!.base, 'POST', `/create_task/${biz}/`, { body: { ...who, name: 'x', pipeline, ...extra } });

  it('an app cannot learn of or block the tasks of a project it may not see', async () => {
    h = await harness();
    // alpha (project 1) names beta's task 30 and an id nobody has: both refused alike, before any lookup
    const taken = refusedAs(await createAs(ALPHA, '2', { task_id: '30' }), 3540000);
    const free = refusedAs(await createAs(ALPHA, '2', { task_id: '31' }), 3540000);
    expect([taken, free]).toEqual(['invalid task_id: is assigned by the service', 'invalid task_id: is assigned by the service']);
    // alpha registers many tasks: none takes an id beta holds, and beta's next registration still succeeds
    const alphaIds: number[] = [];
    for (let k = 0; k < 20; k++) alphaIds.push(((await createAs(ALPHA, '2')).json!.data as { task_id: number }).task_id);
    expect(alphaIds).not.toContain(30);
    const betaTask = (await createAs(BETA, '4')).json!;
    expect(betaTask).toMatchObject({ result: true, data: { project_id: '3' } });
    const betaId = String((betaTask.data as { task_id: number }).task_id);
    expect(alphaIds).not.toContain(Number(betaId));
    // and beta's tasks, old and new, look to alpha exactly like ids that do not exist
    for (const id of ['30', betaId]) {
      const foreign = refusedAs(await send(h.base, 'GET', `/get_task_status/${id}/2/`, { query: qs(ALPHA) }), 3540400);
      expect(foreign).toBe(`task ${id} does not exist`);
      refusedAs(await send(h.base, 'POST', `/delete_task/${id}/2/`, { body: ALPHA }), 3540400);
    }
    expect(h.engine.snapshot().getTask(betaId)!.project.id).toBe('3');
  });
});

describe('--no-auth', () => {
  it('accepts callers without credentials and shows every project', async () => {
    h = await harness({ noAuth: true });
    expect((await send(h.base, 'GET', '/get_task_status/10/2/')).json!.result).toBe(true);
    expect((await send(h.base, 'GET', '/get_task_status/30/4/')).json!.result).toBe(true);
    expect(h.server.handler.auth.enabled).toBe(false);
  });
});
