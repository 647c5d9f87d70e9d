/**
 * `pipestate status <task_id> --biz <id>`: fetches get_task_status and draws the tree; `--json`
 * prints the raw answer; `--watch` redraws on every change the server streams, until the answered
 * node is FINISHED or REVOKED (or Ctrl-C).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { apiUrl, authHeaders, ClientError, getJson, open, readText, type Credentials } from './client.js';
import { readNode, renderStatus } from './render.js';
import { SseParser } from './sse.js';

/** Calls `run` every `ms` until the returned function is called; injectable so tests never sleep. */
export type Ticker = (ms: number, run: () => void) => () => void;

/** setInterval, unref'd: a ticking redraw never keeps the process alive on its own. */
export const intervalTicker: Ticker = (ms, run) => {
  const timer = setInterval(run, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export interface StatusRequest {
  readonly url: string;
  readonly taskId: string;
  readonly bizId: string;
  readonly subprocessId?: string;
  readonly scope?: 'cmdb_biz' | 'project';
  readonly credentials: Credentials;
  readonly json: boolean;
  /** follow the task's changes */
  readonly watch: boolean;
  readonly color: boolean;
  /** clear the screen between frames (a terminal) or print them one after another */
  readonly redraw: boolean;
  /** terminal columns: long names are cut to fit */
  readonly width?: number;
  /** watching in a terminal: how running durations are redrawn each second; default setInterval */
  readonly ticker?: Ticker;
  /** ms; the clock durations advance by between fetches; default Date.now */
  readonly now?: () => number;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** aborts a watch (Ctrl-C) */
  readonly signal?: AbortSignal;
}

/** Exit codes. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, internal: 70 } as const;

const DONE: ReadonlySet<string> = new Set(['FINISHED', 'REVOKED']);
const MAX_RECONNECTS = 10;

interface EnvelopeLike {
  readonly result?: unknown;
  readonly data?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
}

function query(r: StatusRequest): Map<string, string> {
  // The error data and the automatic retries of failed nodes are drawn under and beside them.
  const q = new Map([
    ['with_ex_data', 'true'],
    ['with_failed_node_info', 'true'],
    ['with_auto_retry_status', 'true'],
  ]);
  if (r.subprocessId !== undefined) q.set('subprocess_id', r.subprocessId);
  if (r.scope !== undefined) q.set('scope', r.scope);
  return q;
}

async function fetchStatus(r: StatusRequest): Promise<EnvelopeLike> {
  const answer = await getJson(apiUrl(r.url, ['get_task_status', r.taskId, r.bizId], query(r)), authHeaders(r.credentials));
  if (typeof answer !== 'object' || answer === null) throw new ClientError('the server answered something that is not an envelope');
  return answer as EnvelopeLike;
}

function draw(r: StatusRequest, answer: EnvelopeLike, frame: number, extraSeconds = 0): void {
  if (r.json) {
    // watching: one answer per line (NDJSON), for tools to read as they arrive
    r.out(`${JSON.stringify(answer, null, r.watch ? undefined : 2)}\n`);
    return;
  }
  const lines = renderStatus(answer.data, {
    color: r.color,
    taskId: r.taskId,
    bizId: r.bizId,
    scope: r.scope,
    width: r.width,
    extraSeconds,
  });
  const text = `${lines.join('\n')}\n`;
  if (r.redraw) r.out(`\x1b[H\x1b[2J${text}`);
  else r.out(frame === 0 ? text : `\n${text}`);
}

function refusal(r: StatusRequest, answer: EnvelopeLike): number {
  if (r.json) r.out(`${JSON.stringify(answer, null, 2)}\n`);
  r.err(`pipestate: ${String(answer.message ?? 'refused')} (code ${String(answer.code)})\n`);
  return EXIT.refused;
}

export async function runStatus(r: StatusRequest): Promise<number> {
  try {
    if (r.watch) return await watch(r);
    const answer = await fetchStatus(r);
    if (answer.result !== true) return refusal(r, answer);
    draw(r, answer, 0);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ClientError) {
      r.err(`pipestate: ${error.message}\n`);
      return EXIT.unreachable;
    }
    throw error;
  }
}

type Outcome = { readonly exit: number } | { readonly dropped: true };

/**
 * Streams, reconnecting with Last-Event-ID when a connection that worked drops. A server that
 * cannot be reached from the start fails at once, as the one-shot status does: retrying only
 * makes sense for a connection that once worked.
 */
async function watch(r: StatusRequest): Promise<number> {
  const frames = new FrameClock(r);
  try {
    return await follow(r, new SseParser(), frames);
  } finally {
    frames.stop();
  }
}

async function follow(r: StatusRequest, parser: SseParser, frames: FrameClock): Promise<number> {
  let failures = 0;
  let connectedOnce = false;
  for (;;) {
    let outcome: Outcome;
    try {
      outcome = await streamOnce(r, parser, frames, () => {
        failures = 0;
        connectedOnce = true;
      });
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      if (!connectedOnce) {
        r.err(`pipestate: ${error.message}\n`);
        return EXIT.unreachable;
      }
      outcome = { dropped: true };
    }
    if ('exit' in outcome) return outcome.exit;
    if (r.signal?.aborted) return EXIT.ok;
    failures++;
    if (failures > MAX_RECONNECTS) {
      r.err(`pipestate: lost the connection to ${r.url} and could not reconnect\n`);
      return EXIT.unreachable;
    }
    r.err(`pipestate: connection lost; reconnecting (attempt ${failures})\n`);
    await delay(Math.min(parser.retryMs ?? 1000, 5000) * failures, undefined, { signal: r.signal }).catch(() => undefined);
    if (r.signal?.aborted) return EXIT.ok;
  }
}

/**
 * The frames of a watch. In a terminal, the last answer is redrawn every second with the time
 * since it was fetched added to the durations still under way, so a running node's duration
 * moves even when nothing changes (the server sends nothing then).
 */
class FrameClock {
  private frame = 0;
  private stopTicking: (() => void) | undefined;

  constructor(private readonly r: StatusRequest) {}

  draw(answer: EnvelopeLike): void {
    draw(this.r, answer, this.frame++);
    this.stop();
    if (!this.r.redraw || this.r.json || !hasUnderWay(answer.data)) return;
    const now = this.r.now ?? Date.now;
    const fetchedAt = now();
    this.stopTicking = (this.r.ticker ?? intervalTicker)(1000, () => {
      draw(this.r, answer, this.frame++, Math.floor((now() - fetchedAt) / 1000));
    });
  }

  stop(): void {
    this.stopTicking?.();
    this.stopTicking = undefined;
  }
}

/** Does any node of the answer have a duration that grows (started, not finished)? */
function hasUnderWay(data: unknown): boolean {
  const node = readNode(data);
  const stack = node ? [node] : [];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    if (n.start_time !== '' && n.finish_time === '') return true;
    stack.push(...n.children);
  }
  return false;
}

function streamOnce(r: StatusRequest, parser: SseParser, frames: FrameClock, connected: () => void): Promise<Outcome> {
  const url = apiUrl(r.url, ['watch_task_status', r.taskId, r.bizId], query(r));
  const headers: Record<string, string> = { ...authHeaders(r.credentials), Accept: 'text/event-stream' };
  if (parser.lastEventId !== undefined) headers['Last-Event-ID'] = parser.lastEventId;
  const { req, response } = open(url, headers);
  const onAbort = () => req.destroy();
  r.signal?.addEventListener('abort', onAbort, { once: true });

  return response.then(
    (res) =>
      new Promise<Outcome>((resolve, reject) => {
        let settled = false;
        const finish = (outcome: Outcome) => {
          if (settled) return;
          settled = true;
          r.signal?.removeEventListener('abort', onAbort);
          frames.stop();
          req.destroy();
          resolve(outcome);
        };
        if (!String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          // Refused before the stream opened: the body is the envelope.
          readText(res).then((text) => {
            let answer: EnvelopeLike;
            try {
              answer = JSON.parse(text) as EnvelopeLike;
            } catch {
              return reject(new ClientError(`${url.origin} answered HTTP ${res.statusCode} without JSON`));
            }
            finish({ exit: refusal(r, answer) });
          }, reject);
          return;
        }
        connected();
        // Changes are coalesced: while a fetch is under way, further changes ask for one more.
        let fetching = false;
        let again = false;
        const refresh = async (): Promise<void> => {
          if (fetching) {
            again = true;
            return;
          }
          fetching = true;
          try {
            do {
              again = false;
              const answer = await fetchStatus(r);
              if (settled) return;
              if (answer.result !== true) return finish({ exit: refusal(r, answer) });
              frames.draw(answer);
              const root = readNode(answer.data);
              if (root && DONE.has(root.state)) return finish({ exit: EXIT.ok });
            } while (again);
          } catch (error) {
            if (error instanceof ClientError) finish({ dropped: true });
            else reject(error);
          } finally {
            fetching = false;
          }
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          for (const event of parser.feed(chunk)) {
            if (event.event === 'reset')
              r.err('pipestate: the server no longer holds the changes since the last one seen; redrawing from the full status\n');
            if (event.event === 'status' || event.event === 'change') void refresh();
          }
        });
        res.on('end', () => finish(r.signal?.aborted ? { exit: EXIT.ok } : { dropped: true }));
        res.on('error', () => finish(r.signal?.aborted ? { exit: EXIT.ok } : { dropped: true }));
      }),
    (error: unknown) => {
      r.signal?.removeEventListener('abort', onAbort);
      if (r.signal?.aborted) return { exit: EXIT.ok };
      throw error;
    },
  );
}
