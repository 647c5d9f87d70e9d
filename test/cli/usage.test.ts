/**
 * The CLI checks its own arguments and never ends in a stack trace: every usage or configuration
 * problem is one line naming the argument, exit 2; a server down from the start fails a watch
 * as fast as a one-shot status (exit 3); a watch in a terminal redraws running durations each
 * second on an injected ticker (nothing sleeps).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type Io } from '../../src/cli/main.js';
import { startService, type Service } from '../../src/cli/serve.js';
import { runStatus } from '../../src/cli/status.js';

const DEMO = new URL('../../config/demo.json', import.meta.url).pathname;

async function cli(args: readonly string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env,
    stdoutIsTTY: false,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** One line of message first, no stack frames anywhere. */
const oneLiner = (stderr: string): string => {
  expect(stderr).not.toMatch(/^\s+at /m);
  return stderr.split('\n')[0];
};

describe('help', () => {
  it('no arguments: the help on stderr, exit 2; --help: on stdout, exit 0', async () => {
    const none = await cli([]);
    expect([none.code, none.stdout]).toEqual([2, '']);
    expect(none.stderr).toMatch(/Usage: pipestate <command>/);
    for (const flag of ['--help', '-h', 'help']) {
      const help = await cli([flag]);
      expect([help.code, help.stderr]).toEqual([0, '']);
      expect(help.stdout).toMatch(/Usage: pipestate <command>/);
    }
  });
});

describe('status arguments', () => {
  it.each([
    [
      ['status', 'abc', '--biz', '2'],
      'pipestate status: <task_id> must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits; got "abc"',
    ],
    [
      ['status', '0', '--biz', '2'],
      'pipestate status: <task_id> must be a task id: a positive integer up to 9007199254740991, as a number or a string of digits; got "0"',
    ],
    [
      ['status', '1001', '--biz', 'abc'],
      'pipestate status: --biz must be a business (or, with --scope project, a project) id: 1 to 32 digits; got "abc"',
    ],
    [['status', '1001', '--biz', '2', '--scope', 'bogus'], 'pipestate status: --scope must be cmdb_biz or project; got "bogus"'],
    [
      ['status', '1001', '--biz', '2', '--subprocess', 'a b'],
      'pipestate status: --subprocess must be a node id: 1 to 64 characters of A-Z a-z 0-9 _ -; got "a b"',
    ],
    [['status', '1001', '1002', '--biz', '2'], 'pipestate status: status takes one argument, <task_id>; got 2: 1001 1002'],
    [['status', '--biz', '2'], 'pipestate status: status needs <task_id>'],
    [['status', '1001', '--biz', '2', '--url', 'notaurl'], 'pipestate status: --url must be an http:// or https:// URL; got "notaurl"'],
    [
      ['status', '1001', '--biz', '2', '--url', 'ftp://host/'],
      'pipestate status: --url must be an http:// or https:// URL; got "ftp://host/"',
    ],
    [['serve', 'extra'], 'pipestate serve: serve takes no arguments; got extra'],
  ])('%j is a usage error naming the argument', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(oneLiner(r.stderr)).toBe(message);
    expect(r.stderr).toMatch(/Usage: pipestate /);
  });

  it('a bad $PIPESTATE_URL is named as such', async () => {
    const r = await cli(['status', '1001', '--biz', '2'], { PIPESTATE_URL: 'localhost:7070' });
    expect([r.code, oneLiner(r.stderr)]).toEqual([
      2,
      'pipestate status: $PIPESTATE_URL must be an http:// or https:// URL; got "localhost:7070"',
    ]);
  });
});

describe('serve: hosts it cannot listen on', () => {
  it.each([
    ['nosuchhost.invalid', 'pipestate serve: --host nosuchhost.invalid is not a known host name'],
    // TEST-NET-1: never an address of this machine; binding fails locally, nothing is sent
    ['192.0.2.1', 'pipestate serve: --host 192.0.2.1 is not an address of this machine'],
  ])('--host %s: one line, exit 2', async (host, message) => {
    const r = await cli(['serve', '--port', '0', '--host', host], { PIPESTATE_CONFIG: DEMO });
    expect([r.code, r.stderr]).toEqual([2, `${message}\n`]);
  });
});

describe('status --watch', () => {
  it('against a server that is down from the start: exit 3 at once, the reason named, no retries', async () => {
    const r = await cli(['status', '1001', '--biz', '2', '--url', 'http://127.0.0.1:1', '--watch']);
    expect(r.code).toBe(3);
    expect(oneLiner(r.stderr)).toMatch(/^pipestate: cannot reach http:\/\/127\.0\.0\.1:1: ECONNREFUSED$/);
    expect(r.stderr).not.toMatch(/reconnecting/);
  });

  // per test, not per describe: engine work outside a test makes a mutation run re-run every
  // test for each mutant it reached (docs/testing.md)
  let service: Service;
  beforeEach(async () => {
    service = await startService({ port: 0, host: '127.0.0.1', configPath: DEMO, noAuth: true, env: {}, log: () => {}, warn: () => {} });
    const e = service.engine;
    e.createTask({
      id: '5',
      project_id: '1',
      name: 'Five',
      pipeline: {
        id: 'r',
        kind: 'pipeline',
        children: [
          { id: 'a', kind: 'activity', name: 'Alpha' },
          { id: 'b', kind: 'activity', name: 'Beta' },
        ],
      },
    });
    e.start('5', 'r');
    e.start('5', 'b');
    e.finish('5', 'b');
    e.start('5', 'a');
  });
  afterEach(() => service.close());

  it('in a terminal, redraws the running durations every second between changes', async () => {
    let tick: (() => void) | undefined;
    let ticking = 0;
    let now = 1_000_000;
    const frames: string[] = [];
    const stop = new AbortController();
    const done = runStatus({
      url: service.url,
      taskId: '5',
      bizId: '2',
      credentials: { username: 'me' },
      json: false,
      watch: true,
      color: false,
      redraw: true,
      out: (t) => frames.push(t),
      err: () => {},
      signal: stop.signal,
      ticker: (ms, run) => {
        expect(ms).toBe(1000);
        ticking++;
        tick = run;
        return () => {
          tick = undefined;
        };
      },
      now: () => now,
    });
    await vi.waitFor(() => expect(tick).toBeDefined(), { timeout: 10_000 });
    const first = frames.at(-1)!;
    const seconds = (frame: string, name: string) => {
      const m = new RegExp(`${name} +\\S+ +(?:(\\d+)m)?(\\d+)s`).exec(frame)!;
      return Number(m[1] ?? 0) * 60 + Number(m[2]);
    };
    now += 6_400;
    tick!();
    const second = frames.at(-1)!;
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(seconds(second, 'Alpha') - seconds(first, 'Alpha')).toBe(6);
    expect(seconds(second, 'Beta')).toBe(seconds(first, 'Beta')); // finished: does not grow
    expect(second.startsWith('\x1b[H\x1b[2J')).toBe(true);
    now += 60_000;
    tick!();
    expect(seconds(frames.at(-1)!, 'Alpha') - seconds(first, 'Alpha')).toBe(66);
    // a change redraws from a fresh answer, and re-arms one ticker (never two)
    service.engine.finish('5', 'a');
    service.engine.finish('5', 'r');
    expect(await done).toBe(0);
    expect(tick).toBeUndefined();
    expect(ticking).toBe(1);
  });
});
