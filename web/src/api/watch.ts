/**
 * The watch stream (watch_task_status, Server-Sent Events) read with fetch, because EventSource
 * cannot send the credential header. Events are parsed by the CLI's parser. When the connection
 * drops, it reconnects after the server's `retry` delay with `Last-Event-ID`, so the server
 * replays exactly the changes missed (or says `reset` and sends a fresh status).
 */
import { SseParser, type SseEvent } from '../../../src/cli/sse.js';
import type { ApiClient, Envelope } from './client.js';

export type WatchState = 'connecting' | 'open' | 'waiting' | 'refused' | 'closed';

export interface WatchOptions {
  readonly client: ApiClient;
  readonly taskId: string;
  readonly onEvent: (e: SseEvent) => void;
  readonly onState: (state: WatchState, detail?: string) => void;
  /** ms before reconnecting when the server named none; default 2 s */
  readonly retryMs?: number;
  /** how to wait; injectable so tests do not sleep */
  readonly delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface Watch {
  /** the cursor of the last event seen */
  readonly lastEventId: string | undefined;
  close(): void;
}

const wait = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

export function openWatch(o: WatchOptions): Watch {
  const stop = new AbortController();
  let lastEventId: string | undefined;
  let retryMs = o.retryMs ?? 2_000;
  const delay = o.delay ?? wait;

  /** One connection: resolves when it ends; false when the server refused (do not retry). */
  const connect = async (): Promise<boolean> => {
    o.onState('connecting');
    const headers: Record<string, string> = { ...o.client.headers(), Accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
    const res = await fetch(o.client.url('watch_task_status', { task_id: o.taskId }), { headers, signal: stop.signal });
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || res.body === null) {
      const env = (await res.json().catch(() => undefined)) as Envelope<unknown> | undefined;
      o.onState('refused', env?.message ?? `HTTP ${res.status}`);
      return false;
    }
    o.onState('open');
    const parser = new SseParser();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      for (const e of parser.feed(chunk.value)) {
        if (e.id !== undefined) lastEventId = e.id;
        o.onEvent(e);
      }
      if (parser.retryMs !== undefined) retryMs = parser.retryMs;
    }
    return true;
  };

  void (async () => {
    while (!stop.signal.aborted) {
      let again = true;
      try {
        again = await connect();
      } catch {
        // the connection failed or dropped: try again after the delay
      }
      if (!again) return; // refused: said so, and retrying would be refused again
      if (stop.signal.aborted) break;
      o.onState('waiting');
      await delay(retryMs, stop.signal);
    }
    o.onState('closed');
  })();

  return {
    get lastEventId() {
      return lastEventId;
    },
    close: () => stop.abort(),
  };
}
