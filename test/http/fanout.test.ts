/**
 * Fan-out: a change is encoded once whatever the number of watchers, and written to them after
 * the request that made it, not inside it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ALPHA, harness, qs, type Harness } from './helpers.js';
import { watch } from './sse-client.js';

const encoded = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/api/http/sse-events.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/api/http/sse-events.js')>();
  return {
    ...original,
    changeFrame: (...args: Parameters<typeof original.changeFrame>) => (encoded.count++, original.changeFrame(...args)),
  };
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('fan-out', () => {
  it('50 watchers: each change encoded once, and nothing written to them inside the operation', async () => {
    h = await harness();
    const responses: ServerResponse[] = [];
    h.server.on('request', (_req: IncomingMessage, res: ServerResponse) => responses.push(res));
    const streams = await Promise.all(Array.from({ length: 50 }, () => watch(`${h!.base}/watch_task_status/10/2/?${qs(ALPHA)}`)));
    for (const s of streams) expect((await s.next()).event).toBe('status');
    let writes = 0;
    for (const res of responses) {
      const write = res.write.bind(res);
      res.write = ((...args: Parameters<typeof write>) => (writes++, write(...args))) as typeof res.write;
    }
    encoded.count = 0;
    const [change] = h.engine.start('10', 'root');
    h.engine.start('10', 'a');
    expect(writes).toBe(0);
    for (const s of streams) {
      const got = await s.take(2);
      expect(got.map((e) => Number(e.id))).toEqual([change.seq, change.seq + 1]);
    }
    expect(encoded.count).toBe(2);
    expect(writes).toBeGreaterThanOrEqual(50);
    for (const s of streams) s.drop();
  });

  it('a watcher of a quiet task is not reset by changes elsewhere that push its cursor out of the log', async () => {
    h = await harness({ retention: { maxEvents: 5 } });
    const s = await watch(`${h.base}/watch_task_status/30/4/?${qs({ ...ALPHA, bk_app_code: 'ops', bk_app_secret: 'ops-secret' })}`);
    await s.next();
    // A busy task 10 (not watched) fills the log several times over.
    h.engine.start('10', 'root');
    for (const n of ['a', 'sub', 'd']) h.engine.start('10', n);
    for (let i = 0; i < 3; i++) {
      h.engine.finish('10', 'a');
      h.engine.reenter('10', 'a');
    }
    const [mine] = h.engine.start('30', 'root');
    const next = await s.next();
    expect(next.event).toBe('change');
    expect(Number(next.id)).toBe(mine.seq);
    s.drop();
  });
});
