/**
 * The client side of the "service under load" section, in its own process so that the readers'
 * load (autocannon, in the section's process) never delays the probe's own event loop:
 *
 *   node --import tsx bench/service/load.ts <role> '<JSON arguments>'
 *
 * - `side`: a liveness probe (GET /healthz, one at a time, every `probeEveryMs`) and optionally a
 *   writer sending node_events at a fixed `rate` (open loop: it does not wait for answers), for
 *   `durationMs`. Prints the probe's latencies and the writer's achieved rate.
 * - `sequential`: `n` node_events one after another on one connection. Prints their latencies.
 * - `watchers`: `count` watch streams on task 2; prints `ready` once every one has its status,
 *   then, once every one has received `expect` change events (or when stdin closes), how many
 *   each received and when the last one got its last (ms since the epoch).
 *
 * Every request loop is bounded by its count or its duration and ends by itself.
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { APP } from './app.js';

const [role, argsJson] = process.argv.slice(2);
const args = JSON.parse(argsJson) as Record<string, number>;
const base = `http://127.0.0.1:${args.port}`;
const ESB = (name: string) => `${base}/api/c/compapi/v2/sops/${name}/`;

/** Sends one request; resolves with the status and the elapsed ms once the answer has been read. */
function timed(agent: Agent, method: string, url: string, body?: string): Promise<{ status: number; ms: number; code?: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: number | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { code?: number }).code;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, code });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** finish, reenter, finish, … of task 2's node a: every one a valid move. */
let finished = false;
const nodeEvent = (): string => {
  const event = finished ? 'reenter' : 'finish';
  finished = !finished;
  return JSON.stringify({ ...APP, bk_biz_id: '1', task_id: '2', node_id: 'a', event });
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function side(): Promise<unknown> {
  const { durationMs, probeEveryMs, rate } = args;
  const end = performance.now() + durationMs;
  const probe = (async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ms: number[] = [];
    while (performance.now() < end) {
      ms.push((await timed(agent, 'GET', `${base}/healthz`)).ms);
      await sleep(probeEveryMs);
    }
    agent.destroy();
    return ms;
  })();
  const writer = (async () => {
    if (!rate) return undefined;
    // node_events must apply in order (finish, reenter, …): one connection, requests pipelined
    // by the schedule, each sent when its time comes whether or not the previous was answered.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const start = performance.now();
    const pending: Promise<{ status: number; ms: number; code?: number }>[] = [];
    let completed = 0;
    let refused = 0;
    for (let k = 0; start + (k * 1000) / rate < end; k++) {
      const at = start + (k * 1000) / rate;
      const wait = at - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        timed(agent, 'POST', ESB('node_event'), nodeEvent()).then((r) => {
          if (performance.now() <= end) {
            completed++;
            if (r.code !== 0) refused++;
          }
          return r;
        }),
      );
    }
    const results = await Promise.all(pending);
    agent.destroy();
    return { sent: results.length, completedInWindow: completed, refused, ms: results.map((r) => r.ms) };
  })();
  return { probe: await probe, writer: await writer };
}

async function sequential(): Promise<unknown> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ms: number[] = [];
  let refused = 0;
  for (let k = 0; k < args.n; k++) {
    const r = await timed(agent, 'POST', ESB('node_event'), nodeEvent());
    if (r.code !== 0) refused++;
    ms.push(r.ms);
  }
  agent.destroy();
  return { ms, refused };
}

async function watchers(): Promise<unknown> {
  const counts = new Array<number>(args.count).fill(0);
  const cut = new Array<boolean>(args.count).fill(false);
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const query = new URLSearchParams({ ...APP }).toString();
  const streams = await Promise.all(
    counts.map(
      (_, i) =>
        new Promise<import('node:http').ClientRequest>((resolve, reject) => {
          const req = request(`${base}/watch_task_status/2/1/?${query}`, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
            let sawStatus = false;
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              counts[i] += (chunk.match(/^event: change$/gm) ?? []).length;
              if (!sawStatus && /^event: status$/m.test(chunk)) {
                sawStatus = true;
                resolve(req);
              }
            });
            res.on('close', () => {
              cut[i] = true;
            });
            res.on('error', () => {});
          });
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  console.log('ready');
  let lastAt = 0;
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (counts.every((n) => n >= args.expect)) {
        lastAt = Date.now();
        clearInterval(poll);
        resolve();
      }
    }, 2);
    // stdin closes when the section gives up waiting
    createInterface({ input: process.stdin }).on('close', () => {
      clearInterval(poll);
      resolve();
    });
  });
  for (const s of streams) s.destroy();
  return { min: Math.min(...counts), max: Math.max(...counts), cut: cut.filter(Boolean).length, lastAt };
}

const roles: Record<string, () => Promise<unknown>> = { side, sequential, watchers };
console.log(JSON.stringify(await roles[role]()));
process.exit(0);
