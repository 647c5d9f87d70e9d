/**
 * `pipestate status <task_id> --biz <id>`: fetches get_task_status and draws the tree; `--json`
 * prints the raw answer; `--watch` redraws on every change the server streams, until the answered
 * node is FINISHED or REVOKED (or Ctrl-C).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { apiUrl, authHeaders, ClientError, getJson, open, readText, type Credentials } from './client.js';
import { readNode, renderStatus } from './render.js';
import { SseParser } from './sse.js';

export interface StatusRequest {
  readonly url: string;
  readonly taskId: string;
  readonly bizId: string;
  readonly subprocessId?: string;
  readonly scope?: string;
  readonly credentials: Credentials;
  readonly json: boolean;
  /** follow the task's changes */
  readonly watch: boolean;
  readonly color: boolean;
  /** clear the screen between frames (a terminal) or print them one after another */
  readonly redraw: boolean;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** aborts a watch (Ctrl-C) */
  readonly signal?: AbortSignal;
}

/** Exit codes. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

const DONE: ReadonlySet<string> = new Set(['FINISHED', 'REVOKED']);
const MAX_RECONNECTS = 10;

interface EnvelopeLike {
  readonly result?: unknown;
  readonly data?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
}

function query(r: StatusRequest): Map<string, string> {
  const q = new Map([['with_ex_data', 'true']]);
  if (r.subprocessId !== undefined) q.set('subprocess_id', r.subprocessId);
  if (r.scope !== undefined) q.set('scope', r.scope);
  return q;
}

async function fetchStatus(r: StatusRequest): Promise<EnvelopeLike> {
  const answer = await getJson(apiUrl(r.url, ['get_task_status', r.taskId, r.bizId], query(r)), authHeaders(r.credentials));
  if (typeof answer !== 'object' || answer === null) throw new ClientError('the server answered something that is not an envelope');
  return answer as EnvelopeLike;
}

function draw(r: StatusRequest, answer: EnvelopeLike, frame: number): void {
  if (r.json) {
    // watching: one answer per line (NDJSON), for tools to read as they arrive
    r.out(`${JSON.stringify(answer, null, r.watch ? undefined : 2)}\n`);
    return;
  }
  const lines = renderStatus(answer.data, { color: r.color, taskId: r.taskId, bizId: r.bizId });
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

/** Streams, reconnecting with Last-Event-ID when the connection drops. */
async function watch(r: StatusRequest): Promise<number> {
  const parser = new SseParser();
  let frame = 0;
  let failures = 0;
  for (;;) {
    let outcome: Outcome;
    try {
      outcome = await streamOnce(r, parser, () => frame++, () => { failures = 0; });
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
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

function streamOnce(r: StatusRequest, parser: SseParser, nextFrame: () => number, connected: () => void): Promise<Outcome> {
  const url = apiUrl(r.url, ['watch_task_status', r.taskId, r.bizId], query(r));
  const headers: Record<string, string> = { ...authHeaders(r.credentials), Accept: 'text/event-stream' };
  if (parser.lastEventId !== undefined) headers['Last-Event-ID'] = parser.lastEventId;
  const { req, response } = open(url, headers);
  const onAbort = () => req.destroy();
  r.signal?.addEventListener('abort', onAbort, { once: true });

  return response.then((res) => new Promise<Outcome>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      r.signal?.removeEventListener('abort', onAbort);
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
          draw(r, answer, nextFrame());
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
        if (event.event === 'reset') r.err('pipestate: the server no longer holds the changes since the last one seen; redrawing from the full status\n');
        if (event.event === 'status' || event.event === 'change') void refresh();
      }
    });
    res.on('end', () => finish(r.signal?.aborted ? { exit: EXIT.ok } : { dropped: true }));
    res.on('error', () => finish(r.signal?.aborted ? { exit: EXIT.ok } : { dropped: true }));
  }), (error: unknown) => {
    r.signal?.removeEventListener('abort', onAbort);
    if (r.signal?.aborted) return { exit: EXIT.ok };
    throw error;
  });
}
