/** Serving the web view's built files at /ui/ (src/api/http/ui.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ALPHA, harness, qs, send, type Harness } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pipestate-ui-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
writeFileSync(join(dir, 'app.js'), 'console.log(1)');
writeFileSync(join(dir, 'notes.txt'), 'not served: no known type');
const empty = mkdtempSync(join(tmpdir(), 'pipestate-ui-empty-'));
afterAll(() => {
  rmSync(dir, { recursive: true });
  rmSync(empty, { recursive: true });
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("the web view's files", () => {
  it('are served at /ui/ with their types and a same-origin Content-Security-Policy', async () => {
    h = await harness({ ui: { dir } });
    const index = await send(h.base, 'GET', '/ui/');
    expect([index.status, index.headers['content-type'], index.text]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<!doctype html><title>x</title>',
    ]);
    expect(index.headers['content-security-policy']).toContain("default-src 'none'");
    expect(index.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const js = await send(h.base, 'GET', '/ui/app.js');
    expect([js.status, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    const again = await send(h.base, 'GET', '/ui/app.js', { headers: { 'If-None-Match': String(js.headers.etag) } });
    expect([again.status, again.text]).toEqual([304, '']);
    const head = await send(h.base, 'HEAD', '/ui/app.js');
    expect([head.status, head.text, head.headers['content-length']]).toEqual([200, '', String('console.log(1)'.length)]);
  });

  it('answer only the files that were built: no other name, no path outside, no other method', async () => {
    h = await harness({ ui: { dir } });
    const status = async (method: string, path: string) => (await send(h!.base, method, path)).status;
    expect(await status('GET', '/ui')).toBe(301);
    expect((await send(h.base, 'GET', '/ui')).headers.location).toBe('/ui/');
    expect(await status('GET', '/ui/notes.txt')).toBe(404);
    expect(await status('GET', '/ui/../package.json')).toBe(404);
    expect(await status('GET', '/ui/%2e%2e/package.json')).toBe(404);
    expect(await status('GET', '/ui/sub/app.js')).toBe(404);
    expect(await status('POST', '/ui/')).toBe(405);
    // the API is unchanged beside it
    const api = await send(h.base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) });
    expect(api.json).toMatchObject({ result: true });
  });

  it('says when the page is not built, and is absent unless asked for', async () => {
    h = await harness({ ui: { dir: empty } });
    const missing = await send(h.base, 'GET', '/ui/');
    expect([missing.status, missing.text]).toEqual([503, expect.stringContaining('npm run build')]);
    await h.close();
    h = await harness();
    const off = await send(h.base, 'GET', '/ui/');
    expect([off.status, off.json?.code]).toEqual([404, 3540400]);
  });
});
