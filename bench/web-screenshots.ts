/**
 * `node --import tsx bench/web-screenshots.ts [outDir]`: the README's pictures of the web view.
 * Stages a release in the middle of its run (the demo's pipeline, on a clock moved by hand so the
 * durations are those of a real release) beside a few other tasks, serves it with the built page
 * (run `npm run build` first) and takes the task list, the tree and the timeline in Debian's
 * Chromium. Writes web-list.png, web-tree.png and web-timeline.png to bench/out/ (or outDir).
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createEngine } from '../src/api/engine.js';
import { createServer } from '../src/api/http/server.js';
import { DEMO_PIPELINE } from '../src/cli/demo.js';
import { UI_DIR } from '../src/cli/serve.js';
import type { Operation } from '../src/lifecycle/index.js';

const out = process.argv[2] ?? new URL('./out/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

let now = Date.UTC(2026, 2, 8, 6, 0, 0);
const engine = createEngine({ clock: () => now });
engine.createProject({ id: '1', bk_biz_id: '2', name: 'Web shop' });
const simple = (id: string) => ({
  id,
  kind: 'pipeline' as const,
  children: [
    { id: 'dump', kind: 'activity' as const, name: 'Dump' },
    { id: 'upload', kind: 'activity' as const, name: 'Upload' },
  ],
});
const play = (task: string, steps: readonly (readonly [Operation, string, number, string?])[]) => {
  for (const [op, node, seconds, exData] of steps) {
    now += seconds * 1000;
    engine.apply(task, node, op, exData === undefined ? undefined : { ex_data: exData });
  }
};

engine.createTask({ id: '1040', project_id: '1', name: 'Nightly backup', pipeline: simple('b') });
play('1040', [
  ['start', 'b', 0],
  ['start', 'dump', 1],
  ['finish', 'dump', 95],
  ['start', 'upload', 1],
  ['finish', 'upload', 40],
  ['finish', 'b', 1],
]);
engine.createTask({ id: '1041', project_id: '1', name: 'Rotate certificates', pipeline: simple('c') });
play('1041', [
  ['start', 'c', 30],
  ['start', 'dump', 1],
  ['fail', 'dump', 12, 'vault: permission denied (token expired)'],
]);
engine.createTask({ id: '1042', project_id: '1', name: 'Scale out cache', pipeline: simple('d') });
play('1042', [
  ['start', 'd', 20],
  ['pause', 'dump', 1],
]);
engine.createTask({ id: '1043', project_id: '1', name: 'Release web-shop 2.4', pipeline: DEMO_PIPELINE });
play('1043', [
  ['start', 'release', 10],
  ['start', 'start', 0],
  ['finish', 'start', 1],
  ['start', 'fetch', 0],
  ['finish', 'fetch', 24],
  ['start', 'fork', 0],
  ['finish', 'fork', 1],
  ['start', 'build_web', 0],
  ['start', 'build_api', 0],
  ['finish', 'build_web', 132],
  ['finish', 'build_api', 71],
  ['start', 'join', 0],
  ['finish', 'join', 1],
  ['start', 'deploy', 0],
  ['start', 'migrate', 0],
  ['fail', 'migrate', 48, 'migration 0042_add_order_index failed: lock wait timeout exceeded; try restarting transaction'],
  ['retry', 'migrate', 95],
  ['start', 'migrate', 3],
  ['finish', 'migrate', 61],
  ['start', 'rollout', 0],
  ['start', 'canary', 0],
  ['pause', 'fleet', 5],
  ['finish', 'canary', 88],
  ['resume', 'fleet', 20],
  ['start', 'fleet', 1],
  ['finish', 'fleet', 140],
  ['start', 'health', 0],
  ['finish', 'health', 15],
  ['reenter', 'health', 30],
  ['finish', 'health', 15],
  ['reenter', 'health', 30],
]);
engine.createTask({ id: '1044', project_id: '1', name: 'Release web-shop 2.5', pipeline: DEMO_PIPELINE });
now += 25_000;

const server = createServer(engine, { apps: [{ bk_app_code: 'demo', bk_app_secret: 'demo-secret', projects: '*' }], ui: { dir: UI_DIR } });
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const profile = mkdtempSync(join(tmpdir(), 'pipestate-shots-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1200, height: 560 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(10_000);
  await page.goto(`${base}/ui/`);
  await page.fill('input[name=app_code]', 'demo');
  await page.fill('input[name=app_secret]', 'demo-secret');
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=biz_id]', '2');
  await page.click('button[type=submit]');
  await page.waitForSelector('tr[data-task="1040"]');
  await page.screenshot({ path: join(out, 'web-list.png') });
  await page.goto(`${base}/ui/#/task/1043`);
  await page.waitForSelector('.tree-row[data-node="health"]');
  await page.click('.tree-row[data-node="migrate"]');
  await page.waitForSelector('.histories');
  await page.screenshot({ path: join(out, 'web-tree.png') });
  await page.click('a[href="#/task/1043/timeline"]');
  await page.waitForSelector('.gantt-row[data-node="health"] .bar[data-attempt="3"]');
  await page.click('.gantt-row[data-node="health"]');
  await page.screenshot({ path: join(out, 'web-timeline.png') });
  console.log(`wrote web-list.png, web-tree.png, web-timeline.png to ${out}`);
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
