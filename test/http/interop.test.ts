/**
 * What the unmodified bk-sops clients send, over real HTTP: Python's requests (booleans as
 * `True`/`False`), curl's default form label on a JSON body, numbers for ids.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALPHA, ESB, harness, qs, send, type Harness } from './helpers.js';

// Each test gets its own service: engine work in a beforeAll runs outside any test, and a
// mutation run then re-runs every test for each mutant it reached (docs/testing.md).
let h: Harness;
beforeEach(async () => {
  h = await harness();
  h.engine.start('10', 'root');
  h.engine.start('10', 'a');
  h.engine.fail('10', 'a', { ex_data: 'a broke' });
});
afterEach(() => h.close());

describe('a client written for bk-sops', () => {
  it('with_ex_data=True from Python requests (GET query string) is true', async () => {
    const reply = await send(h.base, 'GET', ESB('get_task_status'), {
      query: qs({ ...ALPHA, bk_biz_id: '2', task_id: '10', with_ex_data: 'True' }),
    });
    expect(reply.json).toMatchObject({ result: true, data: { state: 'FAILED', ex_data: { a: 'a broke' } } });
    const off = await send(h.base, 'GET', ESB('get_task_status'), {
      query: qs({ ...ALPHA, bk_biz_id: '2', task_id: '10', with_ex_data: 'False' }),
    });
    expect(off.json).toMatchObject({ result: true });
    expect('ex_data' in (off.json!.data as object)).toBe(false);
  });

  it('a JSON object labelled as a form (curl -d) is read as JSON', async () => {
    const body = JSON.stringify({ ...ALPHA, bk_biz_id: '2', task_id: '10', with_ex_data: true });
    const reply = await send(h.base, 'POST', ESB('get_task_status'), {
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(reply.json).toMatchObject({ result: true, data: { id: 'root', ex_data: { a: 'a broke' } } });
  });

  it('a real form is still form fields, and so is a JSON scalar sent as a form', async () => {
    const form = qs({ ...ALPHA, bk_biz_id: '2', task_id: '10', with_ex_data: '1' });
    const reply = await send(h.base, 'POST', ESB('get_task_status'), {
      body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(reply.json).toMatchObject({ result: true, data: { ex_data: { a: 'a broke' } } });
    const scalar = await send(h.base, 'POST', ESB('get_task_status'), {
      body: '12',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(scalar.json).toMatchObject({ result: false, code: 3540100 });
  });

  it('a body that is not JSON, labelled JSON or not labelled, is still refused as malformed', async () => {
    for (const headers of [{ 'Content-Type': 'application/json' }, { 'Content-Type': 'text/plain' }]) {
      const reply = await send(h.base, 'POST', ESB('get_task_status'), { body: 'bk_biz_id=2', headers });
      expect(reply.json).toMatchObject({ result: false, code: 3540000, message: 'request body is not valid JSON' });
    }
  });

  it("get_tasks_status answers ids as JSON numbers, with bk-sops' keys", async () => {
    const reply = await send(h.base, 'POST', '/get_tasks_status/2/', { body: { ...ALPHA, task_id_list: [10] } });
    expect(reply.text).toContain('"data":[{"id":10,"name":"task ten","status":');
    expect(Object.keys((reply.json!.data as object[])[0])).toEqual([
      'id',
      'name',
      'status',
      'flow_type',
      'current_flow',
      'is_deleted',
      'create_time',
      'start_time',
      'finish_time',
      'url',
    ]);
  });
});

describe('the task url of get_tasks_status, from the configuration', () => {
  it('is read from "task_url" and checked once, at start', async () => {
    const { parseConfig } = await import('../../src/api/http/config.js');
    const { startService } = await import('../../src/cli/serve.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    expect(parseConfig({ projects: [], apps: [], task_url: 'https://x/{task_id}' }).task_url).toBe('https://x/{task_id}');
    expect(() => parseConfig({ task_url: 7 }, 'f.json')).toThrow('f.json: task_url must be a string');
    const dir = mkdtempSync(join(tmpdir(), 'pipestate-url-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ projects: [{ id: '1', bk_biz_id: '2', name: 'p' }], task_url: 'https://x/{nope}' }));
    await expect(
      startService({ port: 0, host: '127.0.0.1', configPath: file, noAuth: true, env: {}, log: () => {}, warn: () => {} }),
    ).rejects.toThrow(`${file}: task_url: invalid taskUrl: {nope} is not a placeholder (known: {task_id}, {project_id}, {bk_biz_id})`);
    writeFileSync(
      file,
      JSON.stringify({
        projects: [{ id: '1', bk_biz_id: '2', name: 'p' }],
        task_url: 'https://sops/t/{project_id}/?instance_id={task_id}',
      }),
    );
    const service = await startService({
      port: 0,
      host: '127.0.0.1',
      configPath: file,
      noAuth: true,
      env: {},
      log: () => {},
      warn: () => {},
    });
    try {
      service.engine.createTask({ id: '7', project_id: '1', name: 'seven', pipeline: { id: 'r', kind: 'pipeline' } });
      const reply = await send(service.url, 'POST', '/get_tasks_status/2/', { body: { task_id_list: '7' } });
      expect((reply.json!.data as { url: string }[])[0].url).toBe('https://sops/t/1/?instance_id=7');
    } finally {
      await service.close();
    }
  });
});
