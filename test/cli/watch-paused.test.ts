/**
 * `pipestate status --watch` behind a connection that stalls (a laptop lid, a frozen terminal, a
 * congested link) while the task changes 16,000 times: when the connection moves again the watch
 * catches up and ends with the task, without being cut or giving up. The stall is a loopback
 * proxy that stops forwarding the server's bytes, so the server sees a client that does not read.
 */
import { once } from 'node:events';
import { createServer as netServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/api/engine.js';
import { runStatus } from '../../src/cli/status.js';
import { harness, type Harness } from '../http/helpers.js';

let h: Harness | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await h?.close();
  h = undefined;
});

/** A TCP proxy to `port` whose server-to-client direction can be held. */
async function stallingProxy(port: number) {
  let held = false;
  const upstreams = new Set<Socket>();
  const proxy = netServer((client) => {
    const up = connect(port, '127.0.0.1');
    upstreams.add(up);
    client.pipe(up);
    up.on('data', (d: Buffer) => {
      if (!client.write(d)) up.pause();
    });
    client.on('drain', () => {
      if (!held) up.resume();
    });
    if (held) up.pause();
    const end = () => {
      up.destroy();
      client.destroy();
      upstreams.delete(up);
    };
    up.on('close', end).on('error', end);
    client.on('close', end).on('error', end);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  closers.push(() => {
    for (const u of upstreams) u.destroy();
    proxy.close();
  });
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    hold: () => {
      held = true;
      for (const u of upstreams) u.pause();
    },
    release: () => {
      held = false;
      for (const u of upstreams) u.resume();
    },
  };
}

describe('status --watch through a stalled connection', () => {
  it('paused through 16,000 changes, it catches up and exits 0 when the task finishes', { timeout: 60_000 }, async () => {
    const engine = createEngine({ rerunLimit: 10_000_000 });
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
    engine.createTask({
      id: '10',
      project_id: '1',
      name: 't',
      pipeline: { id: 'root', kind: 'pipeline', children: [{ id: 'a', kind: 'activity', name: 'A' }] },
    });
    engine.start('10', 'root');
    engine.start('10', 'a');
    // The log holds the whole stall, so what is tested is the pacing, not the reset path.
    h = await harness({ retention: { maxEvents: 20_000 } }, engine);
    const proxy = await stallingProxy(Number(new URL(h.base).port));
    let out = '';
    let err = '';
    const exit = runStatus({
      url: proxy.url,
      taskId: '10',
      bizId: '2',
      credentials: { appCode: 'alpha', appSecret: 'alpha-secret', username: 'alice' },
      json: true,
      watch: true,
      color: false,
      redraw: false,
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    });
    while (!out.includes('\n')) await tick();
    proxy.hold();
    // A burst, as an orchestrator replaying a backlog would send it: megabytes of changes at once.
    for (let i = 0; i < 8_000; i++) {
      engine.finish('10', 'a');
      engine.reenter('10', 'a');
    }
    engine.finish('10', 'a');
    engine.finish('10', 'root');
    for (let i = 0; i < 50; i++) await tick();
    proxy.release();
    expect(await exit).toBe(0);
    expect(err).toBe('');
    const frames = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { data: { state: string } });
    expect(frames.at(-1)!.data.state).toBe('FINISHED');
  });
});
