/**
 * The `pipestate` command. The server, the renderer's output, --watch, --no-auth, the demo and
 * the bin script run as separate processes, spawned as a user would run them; the spawned CLI is
 * the TypeScript source (`node --import tsx src/cli/main.ts`, and the bin script from a checkout
 * with no dist/), so what is tested is the code in the tree, never a stale dist/ build, and
 * `npm test` needs no build step. Exit codes and messages
 * are checked by calling main() in process (a spawn costs a second or two).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ESB, send } from '../http/helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('PIPESTATE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'),
);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: readonly string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...CLEAN_ENV, ...env } });
}

function run(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** main() in process, with its output captured; stdout is not a terminal. */
async function inProcess(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: { ...CLEAN_ENV, ...env },
    stdoutIsTTY: false,
  });
  return { code, stdout, stderr };
}

/** Resolves with the first match of `pattern` in what the stream has printed so far. */
function waitFor(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<RegExpMatchArray> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      text += d;
      const m = text.match(pattern);
      if (m) {
        stream.off('data', onData);
        resolve(m);
      }
    };
    stream.on('data', onData);
    stream.on('end', () => reject(new Error(`stream ended without ${pattern}: ${text}`)));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'pipestate-cli-'));
const configPath = join(dir, 'config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    projects: [
      { id: '1', bk_biz_id: '2', name: 'one' },
      { id: '3', bk_biz_id: '4', name: 'three' },
    ],
    apps: [{ bk_app_code: 'cli', bk_app_secret: 'cli-secret', projects: ['1'] }],
  }),
);
const APP = { bk_app_code: 'cli', bk_app_secret: 'cli-secret', bk_username: 'tester' };
const AUTH = ['--app-code', 'cli', '--app-secret', 'cli-secret', '--username', 'tester'];
const PIPELINE = {
  id: 'root',
  kind: 'pipeline',
  name: 'Build',
  children: [
    { id: 'compile', kind: 'activity', name: 'Compile' },
    { id: 'sub', kind: 'subprocess', name: 'Publish', children: [{ id: 'upload', kind: 'activity', name: 'Upload' }] },
  ],
};

let server: ChildProcessWithoutNullStreams;
let url: string;
let serverExit: Promise<number | null>;
/** the id the service assigned to the task the read-only tests look at (its compile step FAILED) */
let taskId: string;

const event = (task: string, node_id: string, ev: string, extra: Record<string, unknown> = {}) =>
  send(url, 'POST', `/node_event/${task}/2/`, { body: { ...APP, node_id, event: ev, ...extra } });

/** A new task "Build 77" whose compile step failed; its id. */
async function failedBuild(): Promise<string> {
  const created = await send(url, 'POST', ESB('create_task'), { body: { ...APP, bk_biz_id: '2', name: 'Build 77', pipeline: PIPELINE } });
  expect(created.json).toMatchObject({ result: true, data: { task_id: expect.any(Number) } });
  const id = String((created.json!.data as { task_id: number }).task_id);
  await event(id, 'root', 'start');
  await event(id, 'compile', 'start');
  await event(id, 'compile', 'fail', { ex_data: 'cc: error: out of memory' });
  return id;
}

// One service for the suite (a child process: this file is not in mutation runs). The test that
// changes a task makes its own, so that the others read the same answer in any order.
beforeAll(async () => {
  server = start(['serve', '--port', '0', '--config', configPath]);
  serverExit = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  url = (await waitFor(server.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
  taskId = await failedBuild();
});

afterAll(async () => {
  server.kill('SIGTERM');
  // a clean shutdown on SIGTERM: exit code 0
  expect(await serverExit).toBe(0);
});

describe('pipestate serve + status', () => {
  it('status --json prints the raw get_task_status answer', async () => {
    const r = await run(['status', taskId, '--biz', '2', '--url', url, ...AUTH, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(answer)).toEqual(['result', 'data', 'code', 'message', 'request_id', 'trace_id']);
    expect(answer).toMatchObject({ result: true, data: { id: 'root', state: 'FAILED', name: 'Build 77' } });
    const direct = await send(url, 'GET', `/get_task_status/${taskId}/2/`, {
      query: new URLSearchParams({
        ...APP,
        with_ex_data: 'true',
        with_failed_node_info: 'true',
        with_auto_retry_status: 'true',
      }).toString(),
    });
    expect({ ...(answer.data as object), elapsed_time: 0 }).toEqual({ ...(direct.json!.data as object), elapsed_time: 0 });
  });

  it('status draws the tree, colours off when stdout is not a terminal', async () => {
    const r = await run(['status', taskId, '--biz', '2', '--url', url, ...AUTH]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'Name:       Build 77',
      'ID:         root',
      `Task:       ${taskId} (business 2)`,
      'Status:     ✖ FAILED',
    ]);
    expect(lines.slice(8, 12).map((l) => l.replace(/\s+\d+s\b/, ' Ns').replace(/\s+$/, ''))).toEqual([
      ' STEP         ID       DURATION  RETRY  LOOP  MESSAGE',
      ' ✖ Build 77   root Ns',
      ' └─✖ Compile  compile Ns',
      '     error: cc: error: out of memory',
    ]);
  });

  it('NO_COLOR is respected, and --subprocess answers a subtree', async () => {
    const r = await inProcess(['status', taskId, '--biz', '2', '--url', url, ...AUTH, '--subprocess', 'compile'], { NO_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name: +Compile\nID: +compile\n/);
  });

  it('a refusal prints the message and exits 1; an unreachable server exits 3; bad usage exits 2', async () => {
    const wrong = await inProcess([
      'status',
      taskId,
      '--biz',
      '2',
      '--url',
      url,
      '--app-code',
      'cli',
      '--app-secret',
      'nope',
      '--username',
      'x',
    ]);
    const hidden = await inProcess(['status', taskId, '--biz', '4', '--url', url, ...AUTH]);
    const down = await inProcess(['status', taskId, '--biz', '2', '--url', 'http://127.0.0.1:1', ...AUTH]);
    const usage = await inProcess(['status', taskId, '--url', url]);
    const noCommand = await inProcess([]);
    const badPort = await inProcess(['serve', '--port', '70000']);
    const unknown = await inProcess(['status', taskId, '--biz', '2', '--colour']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/3540100/);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/may not see/);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--biz/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--colour'/);
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toMatch(/Usage: pipestate <command>/);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--port must be a whole number from 0 to 65535/);
  });

  it('status --watch redraws on every change and exits when the task finishes', async () => {
    const taskId = await failedBuild();
    const watcher = start(['status', taskId, '--biz', '2', '--url', url, ...AUTH, '--watch']);
    let out = '';
    const printed: (() => void)[] = [];
    watcher.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const p of printed.splice(0)) p();
    });
    // Looks at everything printed so far, not only what comes next: the watcher may redraw
    // before the test gets round to waiting.
    const shown = async (pattern: RegExp): Promise<void> => {
      while (!pattern.test(out)) await new Promise<void>((resolve) => printed.push(resolve));
    };
    const exited = new Promise<number | null>((resolve) => watcher.on('close', resolve));
    await shown(/Status: +✖ FAILED/);
    await send(url, 'POST', `/operate_node/2/${taskId}/`, { body: { ...APP, node_id: 'compile', action: 'retry' } });
    await shown(/◷ Compile/);
    await event(taskId, 'compile', 'start');
    await event(taskId, 'compile', 'finish');
    await event(taskId, 'sub', 'start');
    await event(taskId, 'upload', 'start');
    await shown(/● Upload/);
    await event(taskId, 'upload', 'finish');
    await event(taskId, 'sub', 'finish');
    await event(taskId, 'root', 'finish');
    expect(await exited).toBe(0);
    const frames = out.split(/\n(?=Name:)/);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames.at(-1)).toMatch(/Status: +✔ FINISHED/);
    expect(frames.at(-1)).toMatch(/└─✔ Upload/);
    expect(out).not.toMatch(/\x1b\[/);
  });
});

describe('pipestate serve: configuration and --no-auth', () => {
  it('refuses to start without a configuration, or with a bad one, naming the file and field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ projects: [{ id: '1', name: 'p', time_zone: 'Mars/Olympus' }], apps: [] }));
    const none = await inProcess(['serve', '--port', '0']);
    const broken = await inProcess(['serve', '--port', '0', '--config', bad]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--config <file> or set PIPESTATE_CONFIG/);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${bad}: projects[0]:`);
    expect(broken.stderr).toMatch(/time_zone/);
  });

  it('--no-auth is announced loudly on stderr; the config may come from PIPESTATE_CONFIG', async () => {
    const child = start(['serve', '--port', '0', '--no-auth'], { PIPESTATE_CONFIG: configPath });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(child.stderr, /AUTHENTICATION IS OFF/);
    const base = (await waitFor(child.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
    expect((await send(base, 'GET', '/healthz')).json).toMatchObject({ result: true });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('pipestate demo and the bin script', () => {
  it('demo plays the whole run (every step accepted) and prints how to query it', async () => {
    const r = await run(['demo', '--port', '0', '--beat-ms', '0', '--exit']);
    expect(r.code).toBe(0);
    // Nothing on stderr but, in a checkout not built yet, the one line saying so: whether dist/ui
    // exists depends on `npm run build` and on whether test/web/browser.test.ts (which builds it)
    // ran first, and this test must pass either way.
    expect(r.stderr.replace(/^pipestate: the web view is not built \(run npm run build\); http:\/\/\S+ says so\n/, '')).toBe('');
    expect(r.stdout).toMatch(/npx pipestate status 1001 --biz 2 --url http:\/\/127\.0\.0\.1:\d+ .*--watch/);
    expect(r.stdout).toMatch(/curl -s 'http:\/\/127\.0\.0\.1:\d+\/api\/c\/compapi\/v2\/sops\/get_task_status\/\?/);
    expect(r.stdout).toMatch(/\[24\/24\] the pipeline ends/);
  });

  // bin/pipestate.js runs dist/ when it exists, and dist/ may be older than the tree. Run it from
  // a checkout laid out without dist/ (bin copied; src, node_modules and package.json linked), so
  // that what runs is today's source, through the script's own tsx fallback.
  it('bin/pipestate.js runs the CLI (from a checkout that is not built: the source through tsx)', async () => {
    const checkout = mkdtempSync(join(tmpdir(), 'pipestate-bin-'));
    mkdirSync(join(checkout, 'bin'));
    copyFileSync(join(ROOT, 'bin/pipestate.js'), join(checkout, 'bin/pipestate.js'));
    for (const entry of ['src', 'node_modules', 'package.json']) symlinkSync(join(ROOT, entry), join(checkout, entry));
    expect(existsSync(join(checkout, 'dist'))).toBe(false);
    const child = spawn(process.execPath, ['bin/pipestate.js', '--help'], { cwd: checkout, env: CLEAN_ENV });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    for (const entry of ['src', 'node_modules', 'package.json']) unlinkSync(join(checkout, entry));
    rmSync(checkout, { recursive: true });
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: pipestate <command>/);
    // the help of the source in the tree, word for word
    expect(out).toBe((await inProcess(['--help'])).stdout);
  });
});
