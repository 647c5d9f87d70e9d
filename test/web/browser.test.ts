/**
 * The web view in a real browser: Debian's Chromium, driven by playwright-core, against the
 * service `pipestate serve` runs (startService, on a loopback port), with the page built by the
 * same step as `npm run build`. What the page shows is compared with what the API answers; waits
 * poll the DOM (no fixed sleeps), each bounded. Screenshots go to bench/out/ (not committed).
 *
 * Skipped, saying so, where /usr/bin/chromium is missing (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/api/engine.js';
import type { NodeDefinition } from '../../src/model/index.js';
import type { NodeStatus } from '../../src/query/types.js';
import { UI_DIR, startService, type Service } from '../../src/cli/serve.js';
import { buildWeb } from '../../web/build.js';
import { ESB, send } from '../http/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const OUT = new URL('../../bench/out/', import.meta.url).pathname;
const APP = { bk_app_code: 'web', bk_app_secret: 'web-secret', bk_username: 'tester' };
/** every wait for the page is bounded by this, except the one the issue bounds tighter */
const WAIT = 10_000;

const RELEASE: NodeDefinition = {
  id: 'release',
  kind: 'pipeline',
  name: 'Release 2.4',
  children: [
    { id: 'fetch', kind: 'activity', name: 'Fetch package' },
    {
      id: 'deploy',
      kind: 'subprocess',
      name: 'Deploy',
      children: [
        { id: 'migrate', kind: 'activity', name: 'Migrate database' },
        { id: 'canary', kind: 'activity', name: 'Canary' },
        { id: 'fleet', kind: 'activity', name: 'Fleet' },
      ],
    },
    { id: 'notify', kind: 'activity', name: 'Notify' },
  ],
};

/** A wide and nested task of `n` nodes: 100 subprocesses of (n - 101) / 100 activities each. */
function bigPipeline(n: number): NodeDefinition {
  const per = Math.floor((n - 101) / 100);
  return {
    id: 'big',
    kind: 'pipeline',
    name: 'Big',
    children: Array.from({ length: 100 }, (_, g) => ({
      id: `g${g}`,
      kind: 'subprocess' as const,
      name: `group ${g}`,
      children: Array.from({ length: per }, (_x, k) => ({ id: `g${g}-${k}`, kind: 'activity' as const, name: `step ${g}.${k}` })),
    })),
  };
}

/** What the functions run in the page use of its globals (this suite is typed without the DOM library). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number } };
  requestAnimationFrame(callback: (t: number) => void): number;
  performance: { now(): number };
  maxGap: number;
  last: number;
}

const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`);

let service: Service;
let engine: Engine;
let browser: BrowserContext;
let page: Page;
let profile: string;
const timings: Record<string, number> = {};

const nodeEvent = (taskId: string, node_id: string, event: string) =>
  send(service.url, 'POST', ESB('node_event'), { body: { ...APP, bk_biz_id: '2', task_id: taskId, node_id, event } });

function flatten(s: NodeStatus, out: NodeStatus[] = []): NodeStatus[] {
  out.push(s);
  for (const c of Object.values(s.children)) flatten(c, out);
  return out;
}

describe.skipIf(!available)('the web view in Chromium', () => {
  beforeAll(async () => {
    await buildWeb(UI_DIR);
    mkdirSync(OUT, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'pipestate-chromium-'));
    const config = join(profile, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        projects: [{ id: '1', bk_biz_id: '2', name: 'Web shop' }],
        apps: [{ bk_app_code: APP.bk_app_code, bk_app_secret: APP.bk_app_secret, projects: '*' }],
      }),
    );
    service = await startService({ port: 0, host: '127.0.0.1', configPath: config, noAuth: false, env: {}, log: () => {}, warn: () => {} });
    engine = service.engine;
    engine.createTask({ id: '100', project_id: '1', name: 'Release 2.4', pipeline: RELEASE });
    for (const [op, node] of [
      ['start', 'release'],
      ['start', 'fetch'],
      ['finish', 'fetch'],
      ['start', 'deploy'],
      ['start', 'migrate'],
    ] as const)
      engine.apply('100', node, op);
    engine.fail('100', 'migrate', { ex_data: 'migration 0042 failed: lock wait timeout' });
    engine.createTask({
      id: '101',
      project_id: '1',
      name: 'Nightly backup',
      pipeline: { id: 'b', kind: 'pipeline', children: [{ id: 'dump', kind: 'activity' }] },
    });
    for (const [op, node] of [
      ['start', 'b'],
      ['start', 'dump'],
      ['finish', 'dump'],
      ['finish', 'b'],
    ] as const)
      engine.apply('101', node, op);
    engine.createTask({ id: '102', project_id: '1', name: 'Big rollout (10^4 nodes)', pipeline: bigPipeline(10_001) });
    engine.start('102', 'big');
    for (let g = 0; g < 100; g += 2) engine.start('102', `g${g}`);

    browser = await chromium.launchPersistentContext(join(profile, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 720 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(WAIT);
    await page.goto(`${service.url}/ui/`);
    await page.fill('input[name=app_code]', APP.bk_app_code);
    await page.fill('input[name=app_secret]', APP.bk_app_secret);
    await page.fill('input[name=username]', APP.bk_username);
    await page.fill('input[name=biz_id]', '2');
    await page.click('button[type=submit]');
  }, 60_000);

  afterAll(async () => {
    writeFileSync(join(OUT, 'ui-timings.json'), JSON.stringify(timings, null, 1));
    await browser?.close();
    await service?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('the list shows what get_task_list answers', async () => {
    await page.waitForSelector('tr[data-task="100"]');
    const answer = engine.getTaskList({ bk_biz_id: '2' });
    const rows = await page.$$eval('tr[data-task]', (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-task'),
        state: tr.getAttribute('data-state'),
        text: [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()),
      })),
    );
    expect(rows.map((r) => [r.id, r.state, r.text[1], r.text[2], r.text[3], r.text[5], r.text[6]])).toEqual(
      answer.data!.map((t) => [
        String(t.id),
        t.state,
        t.name,
        String(t.id),
        `${t.progress.finished}/${t.progress.total}`,
        String(t.counts.FAILED),
        String(t.counts.SUSPENDED),
      ]),
    );
    expect(rows[2].text[0]).toBe('✖ FAILED'); // the symbol and the state's name, not colour alone
    await page.screenshot({ path: join(OUT, 'ui-list.png') });
    await page.selectOption('select[name=root_state]', 'FINISHED');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('tr[data-task]').length === 1);
    expect(await page.getAttribute('tr[data-task]', 'data-task')).toBe('101');
  }, 30_000);

  it('the tree shows what get_task_status answers, with the error data of the failed node', async () => {
    await page.goto(`${service.url}/ui/#/task/100`);
    await page.waitForSelector('.tree-row[data-node="migrate"]');
    const status = engine.getTaskStatus({ bk_biz_id: '2', task_id: '100', with_ex_data: true }).data!;
    for (const n of flatten(status)) {
      const row = await page.$eval(`.tree-row[data-node="${n.id}"]`, (el) => ({
        state: el.getAttribute('data-state'),
        name: el.querySelector('.name')?.textContent,
        symbol: el.querySelector('.symbol')?.getAttribute('aria-label'),
      }));
      expect(row, n.id).toEqual({ state: n.state, name: n.name, symbol: n.state });
    }
    // nodes the status leaves out (never started) are in the tree as CREATED
    expect(await page.getAttribute('.tree-row[data-node="notify"]', 'data-state')).toBe('CREATED');
    expect(await page.textContent('[data-error-of="migrate"]')).toContain(String(status.ex_data!.migrate));
    expect(await page.getAttribute('[data-root-state]', 'data-root-state')).toBe(status.state);
    await page.screenshot({ path: join(OUT, 'ui-tree.png') });
    // subprocesses fold and unfold (by their button, or by the arrow keys on their row)
    await page.click('button[aria-label="collapse Deploy"]');
    await page.waitForSelector('.tree-row[data-node="migrate"]', { state: 'detached' });
    await page.focus('.tree-row[data-node="deploy"]');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('.tree-row[data-node="migrate"]');
  }, 30_000);

  it('a node_event appears in the page within a second', async () => {
    const before = Date.now();
    const reply = await nodeEvent('100', 'canary', 'start');
    expect(reply.json).toMatchObject({ result: true });
    await page.waitForSelector('.tree-row[data-node="canary"][data-state="RUNNING"]', { timeout: 1_000 });
    timings.nodeEventToDomMs = Date.now() - before;
  });

  it('a retry from the page changes the task', async () => {
    await page.click('.tree-row[data-node="migrate"]');
    await page.click('.ops button[data-op="retry"]');
    await page.click('button[data-confirm="retry"]');
    await page.waitForSelector('.tree-row[data-node="migrate"][data-state="READY"]');
    expect(await page.textContent('.detail [role=status]')).toBe('Retry: accepted');
    expect(engine.snapshot().getNode('100', 'migrate')).toMatchObject({ state: 'READY', retry: 1 });
  });

  it('a refused operation shows the refusal as the service wrote it', async () => {
    engine.start('100', 'migrate');
    engine.fail('100', 'migrate', { ex_data: 'again' });
    await page.waitForSelector('.tree-row[data-node="migrate"][data-state="FAILED"]');
    await page.click('.ops button[data-op="skip"]');
    const seen = engine.snapshot().getNode('100', 'migrate')!.version;
    engine.retry('100', 'migrate'); // someone else acts first
    await page.click('button[data-confirm="skip"]');
    const alert = await page.waitForSelector('.detail [role=alert]');
    const expected = engine.operateNode({ bk_biz_id: '2', task_id: '100', node_id: 'migrate', action: 'skip', version: seen });
    expect(expected.result).toBe(false);
    expect(await alert.textContent()).toBe(expected.message);
  });

  it('the timeline draws every attempt as its own bar', async () => {
    engine.start('100', 'migrate');
    await page.click('a[href="#/task/100/timeline"]');
    await page.waitForSelector('.gantt-row[data-node="migrate"] .bar[data-attempt="3"]');
    const bars = await page.$$eval('.gantt-row[data-node="migrate"] .bar', (els) =>
      els.map((e) => [e.getAttribute('data-attempt'), e.getAttribute('data-state')]),
    );
    expect(bars).toEqual([
      ['1', 'FAILED'],
      ['2', 'FAILED'],
      ['3', 'RUNNING'],
    ]);
    expect(await page.$('.now-line')).not.toBeNull();
    await page.click('button:text("Zoom in")');
    await page.screenshot({ path: join(OUT, 'ui-timeline.png') });
  }, 30_000);

  it('the 10^4-node task opens, scrolls, and takes a burst of 1,000 changes', async () => {
    const opened = Date.now();
    await page.goto(`${service.url}/ui/#/task/102`);
    await page.waitForSelector('.tree-row[data-node="big"]');
    timings.bigFirstPaintMs = Date.now() - opened;
    const rendered = await page.$$eval('.tree-row', (rows) => rows.length);
    expect(rendered).toBeLessThan(200); // only the rows in view (and a margin) exist
    await page.$eval('.tree .vlist', (el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForSelector('.tree-row[data-node="g99-98"]');
    expect(await page.$('.tree-row[data-node="big"]')).toBeNull(); // scrolled out, so not rendered
    await page.$eval('.tree .vlist', (el) => {
      el.scrollTop = 0;
    });
    await page.waitForSelector('.tree-row[data-node="g0-19"][data-state="CREATED"]');
    // a burst: a thousand leaves started at once, then one more that is in view
    await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobals;
      w.maxGap = 0;
      w.last = w.performance.now();
      const frame = (t: number) => {
        w.maxGap = Math.max(w.maxGap, t - w.last);
        w.last = t;
        w.requestAnimationFrame(frame);
      };
      w.requestAnimationFrame(frame);
    });
    const burst = Date.now();
    for (let k = 0; k < 1_000; k++) engine.start('102', `g${2 * (k % 50)}-${Math.floor(k / 50)}`);
    engine.start('102', 'g0-20');
    await page.waitForSelector('.tree-row[data-node="g0-20"][data-state="RUNNING"]');
    expect(await page.getAttribute('.tree-row[data-node="g0-19"]', 'data-state')).toBe('RUNNING');
    timings.burstOf1000ToDomMs = Date.now() - burst;
    timings.burstLongestFrameGapMs = Math.round(await page.evaluate(() => (globalThis as unknown as PageGlobals).maxGap));
    expect(await page.$$eval('.tree-row', (rows) => rows.length)).toBeLessThan(200);
  }, 60_000);
});
