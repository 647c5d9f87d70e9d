/** A test client for the watch stream: connect, read events one by one, drop the connection. */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { SseParser, type SseEvent } from '../../src/cli/sse.js';

export interface Stream {
  readonly res: IncomingMessage;
  /** the next event (waits for it) */
  next(): Promise<SseEvent>;
  /** the next n events */
  take(n: number): Promise<SseEvent[]>;
  /** events already received and not yet taken */
  readonly pending: number;
  /** drops the connection, as a network failure would */
  drop(): void;
  readonly comments: number;
  /** settles when the connection is closed, for whatever reason */
  readonly closed: Promise<void>;
}

export function watch(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const parser = new SseParser();
      const events: SseEvent[] = [];
      const waiting: ((e: SseEvent) => void)[] = [];
      let comments = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        comments += (chunk.match(/^:/gm) ?? []).length;
        for (const e of parser.feed(chunk)) {
          const w = waiting.shift();
          if (w) w(e);
          else events.push(e);
        }
      });
      res.on('error', () => {});
      const closed = new Promise<void>((r) => res.on('close', () => r()));
      const next = () =>
        new Promise<SseEvent>((r) => {
          const e = events.shift();
          if (e) r(e);
          else waiting.push(r);
        });
      resolve({
        res,
        next,
        closed,
        take: async (n) => {
          const out: SseEvent[] = [];
          for (let i = 0; i < n; i++) out.push(await next());
          return out;
        },
        get pending() {
          return events.length;
        },
        get comments() {
          return comments;
        },
        drop: () => req.destroy(),
      });
    });
    req.on('error', (e) => reject(e));
    req.end();
  });
}
