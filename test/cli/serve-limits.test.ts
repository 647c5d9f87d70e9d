/** `pipestate serve` limits: from the configuration file, overridden by the command line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startService, type Service } from '../../src/cli/serve.js';
import { ESB, send } from '../http/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pipestate-limits-'));
const config = join(dir, 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    projects: [{ id: '1', bk_biz_id: '2', name: 'one' }],
    apps: [{ bk_app_code: 'a', bk_app_secret: 's' }],
    max_body_bytes: 4096,
    max_definition_bytes: 8192,
  }),
);
const APP = { bk_app_code: 'a', bk_app_secret: 's', bk_username: 'u' };
const pipeline = (n: number) => ({
  id: 'root',
  kind: 'pipeline',
  children: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, kind: 'activity' })),
});

let service: Service | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

const quiet = { env: {}, log: () => {}, warn: () => {}, port: 0, host: '127.0.0.1', noAuth: false } as const;

describe('serve limits', () => {
  it('the configuration file sets the body limits', async () => {
    service = await startService({ ...quiet, configPath: config });
    const fits = await send(service.url, 'POST', ESB('create_task'), {
      body: { ...APP, bk_biz_id: '2', name: 't', pipeline: pipeline(100) },
    });
    expect(fits.json).toMatchObject({ result: true, data: { task_id: 1 } });
    const tooBig = await send(service.url, 'POST', ESB('create_task'), {
      body: { ...APP, bk_biz_id: '2', name: 't', pipeline: pipeline(400) },
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json!.message).toMatch(/8192 bytes/);
    const other = await send(service.url, 'POST', ESB('node_event'), {
      body: { ...APP, bk_biz_id: '2', task_id: '1', node_id: 'root', event: 'start', pad: 'x'.repeat(5000) },
    });
    expect(other.status).toBe(413);
    expect(other.json!.message).toMatch(/4096 bytes/);
  });

  it('--max-definition-bytes and --max-body-bytes override it', async () => {
    service = await startService({ ...quiet, configPath: config, limits: { max_definition_bytes: 1 << 20, max_body_bytes: 100_000 } });
    const r = await send(service.url, 'POST', ESB('create_task'), { body: { ...APP, bk_biz_id: '2', name: 't', pipeline: pipeline(400) } });
    // the service assigns ids (main's create_task): the first task of a fresh engine is 1
    expect(r.json).toMatchObject({ result: true, data: { task_id: 1 } });
    const other = await send(service.url, 'POST', ESB('node_event'), {
      body: { ...APP, bk_biz_id: '2', task_id: '1', node_id: 'root', event: 'start', pad: 'x'.repeat(5000) },
    });
    expect(other.json).toMatchObject({ result: true });
  });

  it('the flags take whole numbers of bytes', async () => {
    let err = '';
    const code = await main(['serve', '--max-definition-bytes', '64MB'], {
      out: () => {},
      err: (t) => {
        err += t;
      },
      env: {},
      stdoutIsTTY: false,
    });
    expect(code).toBe(2);
    expect(err).toMatch(/--max-definition-bytes must be a whole number from 1 to/);
  });
});
