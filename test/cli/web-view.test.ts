/** `pipestate serve` serves the web view at /ui/ unless --no-ui; the demo prints its address. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoCommands } from '../../src/cli/demo.js';
import { main } from '../../src/cli/main.js';
import { startService } from '../../src/cli/serve.js';
import { send } from '../http/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pipestate-webview-'));
const configPath = join(dir, 'config.json');
writeFileSync(
  configPath,
  JSON.stringify({ projects: [{ id: '1', bk_biz_id: '2', name: 'one' }], apps: [{ bk_app_code: 'a', bk_app_secret: 's' }] }),
);
afterAll(() => rmSync(dir, { recursive: true }));

async function serve(noUi: boolean) {
  const lines: string[] = [];
  const service = await startService({
    port: 0,
    host: '127.0.0.1',
    configPath,
    noAuth: false,
    noUi,
    env: {},
    log: (l) => lines.push(l),
    warn: (l) => lines.push(l),
  });
  return { service, lines };
}

describe('the web view in pipestate serve', () => {
  it('is served at /ui/ by default, and the address is printed', async () => {
    const { service, lines } = await serve(false);
    try {
      expect(service.uiUrl).toBe(`${service.url}/ui/`);
      expect(lines.join('\n')).toContain(service.uiUrl);
      const page = await send(service.url, 'GET', '/ui/');
      // 200 once `npm run build` has run, 503 saying to run it before
      expect([200, 503]).toContain(page.status);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    } finally {
      await service.close();
    }
  });

  it('--no-ui leaves /ui/ to the API, which knows no such route', async () => {
    const { service } = await serve(true);
    try {
      expect(service.uiUrl).toBeUndefined();
      const page = await send(service.url, 'GET', '/ui/');
      expect([page.status, page.json?.code]).toEqual([404, 3540400]);
    } finally {
      await service.close();
    }
  });

  it('is in the usage of serve, and the demo names the address with its credentials', async () => {
    let out = '';
    await main(['serve', '--help'], {
      out: (t) => {
        out += t;
      },
      err: () => {},
      env: {},
      stdoutIsTTY: false,
    });
    expect(out).toContain('--no-ui');
    expect(demoCommands('http://127.0.0.1:7070', 7070, 'http://127.0.0.1:7070/ui/')[0]).toBe(
      'In a browser: http://127.0.0.1:7070/ui/ (app code demo, secret demo-secret, any user name, business 2)',
    );
  });
});
