/**
 * The page's watch client (web/src/api/watch.ts) against a real server: it sends the credential
 * header, and after a dropped connection it reconnects with Last-Event-ID and receives the
 * missed changes once, without a second full status. A refusal is reported as the service wrote it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SseEvent } from '../../src/cli/sse.js';
import { ApiClient } from '../../web/src/api/client.js';
import { openWatch, type WatchState } from '../../web/src/api/watch.js';
import { harness, type Harness } from '../http/helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.close());

/** Collects what the watch reports; `until` waits for a condition to hold after some report. */
function recorder() {
  const events: SseEvent[] = [];
  const states: string[] = [];
  const waiters: (() => void)[] = [];
  const changed = () => {
    for (const w of waiters.splice(0)) w();
  };
  return {
    events,
    states,
    onEvent: (e: SseEvent) => {
      events.push(e);
      changed();
    },
    onState: (s: WatchState, detail?: string) => {
      states.push(detail === undefined ? s : `${s}: ${detail}`);
      changed();
    },
    async until(holds: () => boolean): Promise<void> {
      while (!holds()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

const creds = { appCode: 'alpha', appSecret: 'alpha-secret', username: 'alice', bizId: '2', scope: 'cmdb_biz' as const };

describe("the page's watch client", () => {
  it('resumes by cursor after a dropped connection: the missed change arrives once, no second status', async () => {
    const r = recorder();
    const w = openWatch({
      client: new ApiClient(h.base, creds),
      taskId: '10',
      onEvent: r.onEvent,
      onState: r.onState,
      delay: async () => {},
    });
    await r.until(() => r.events.length === 1);
    h.engine.start('10', 'root');
    await r.until(() => r.events.length === 2);
    h.server.closeAllConnections();
    h.engine.start('10', 'a');
    await r.until(() => r.events.length === 3);
    expect(r.events.map((e) => [e.event, e.event === 'change' ? (JSON.parse(e.data) as { node_id: string }).node_id : ''])).toEqual([
      ['status', ''],
      ['change', 'root'],
      ['change', 'a'],
    ]);
    await r.until(() => r.states.filter((s) => s === 'open').length === 2);
    expect(r.states.slice(0, 4)).toEqual(['connecting', 'open', 'waiting', 'connecting']);
    expect(w.lastEventId).toBe(r.events[2].id);
    w.close();
    await r.until(() => r.states.at(-1) === 'closed');
  });

  it("reports a refusal with the service's message and does not retry", async () => {
    const r = recorder();
    openWatch({
      client: new ApiClient(h.base, { ...creds, appSecret: 'wrong' }),
      taskId: '10',
      onEvent: r.onEvent,
      onState: r.onState,
      delay: async () => {},
    });
    await r.until(() => r.states.some((s) => s.startsWith('refused')));
    const reply = await fetch(`${h.base}/get_task_status/10/2/`, {
      headers: new ApiClient(h.base, { ...creds, appSecret: 'wrong' }).headers(),
    });
    const { message } = (await reply.json()) as { message: string };
    expect(r.states).toEqual(['connecting', `refused: ${message}`]);
  });
});
