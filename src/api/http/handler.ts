/**
 * The framework-neutral request handler: `(req, res, next?)`. It works as a node:http request
 * listener, and as Express or Connect middleware: mounted under a prefix it routes on the
 * mount-relative `req.url` those frameworks give it, behind a body parser it uses `req.body`,
 * and a path it does not know goes to `next()` when there is one (else 404).
 *
 * Every answer is the envelope of SPEC §3.5, failures included. Errors that are not refusals are
 * bugs: they are logged with the request id and answered 3599999 without their message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, PipestateError } from '../../model/index.js';
import { failure, newId, ok } from '../envelope.js';
import type { Envelope, RequestContext } from '../types.js';
import { acknowledged, health } from './acknowledge.js';
import { appAuthenticator, noAuth, type Authenticator } from './auth.js';
import { queryParams, readBody, type Params } from './body.js';
import { ChangeLog, DEFAULT_RETENTION, type RetentionOptions } from './change-log.js';
import type { AppConfig } from './config.js';
import { HttpMetrics } from './metrics.js';
import type { EnginePort } from './port.js';
import { HttpRefusal, malformedUrl, noRoute } from './refusal.js';
import { RouteTable, type Match } from './routes.js';
import { traceIdOf } from './trace.js';
import { DEFAULT_WATCH, Watches, type WatchOptions } from './watch.js';

export interface Logger {
  error(message: string, error?: unknown): void;
}

export const stderrLogger: Logger = {
  error(message, error) {
    console.error(`pipestate: ${message}`, error ?? '');
  },
};

export interface HandlerOptions {
  /** the apps that may call; ignored when noAuth. Default: none (every call is refused) */
  readonly apps?: readonly AppConfig[];
  /** accept every caller and show every project (local use only) */
  readonly noAuth?: boolean;
  /** default 1 MiB */
  readonly bodyLimitBytes?: number;
  /** ms to receive a request body; default 10 s */
  readonly bodyTimeoutMs?: number;
  /** how long a watcher can resume; default 10,000 changes / 10 minutes */
  readonly retention?: Partial<RetentionOptions>;
  readonly watch?: Partial<WatchOptions>;
  /** where internal errors go; default stderr */
  readonly logger?: Logger;
}

export type Next = (error?: unknown) => void;

/** The header that names the cursor a query must reflect (as the `min_cursor` field does). */
export const MIN_CURSOR_HEADER = 'x-pipestate-min-cursor';

export interface PipestateHandler {
  (req: IncomingMessage, res: ServerResponse, next?: Next): void;
  readonly metrics: HttpMetrics;
  readonly auth: Authenticator;
  readonly changes: ChangeLog;
  /** Detaches from the engine and ends every watch stream. */
  close(): void;
}

interface Answer {
  readonly status: number;
  readonly envelope: Envelope<unknown>;
  readonly headers?: ReadonlyMap<string, string>;
}

const statusOf = (env: Envelope<unknown>): number => (env.code === ERROR_CODES.unexpected ? 500 : 200);

export function createHandler(engine: EnginePort, options: HandlerOptions = {}): PipestateHandler {
  const auth = options.noAuth ? noAuth : appAuthenticator(options.apps ?? []);
  const body = { limitBytes: options.bodyLimitBytes ?? 1 << 20, timeoutMs: options.bodyTimeoutMs ?? 10_000 };
  const logger = options.logger ?? stderrLogger;
  const routes = new RouteTable();
  const metrics = new HttpMetrics(engine);
  const changes = new ChangeLog(engine, { ...DEFAULT_RETENTION, ...options.retention });
  const watches = new Watches(engine, changes, { ...DEFAULT_WATCH, ...options.watch });

  /** Parameters of a matched request: query, then body (POST), then path; the secret removed. */
  async function paramsOf(req: IncomingMessage, url: URL, match: Match): Promise<Params> {
    const query = queryParams(url.searchParams, match.lists);
    const fromBody = req.method === 'POST' ? await readBody(req, body, match.lists) : {};
    return { ...query, ...fromBody, ...Object.fromEntries(match.pathParams) };
  }

  /** Credentials checked, the secret dropped so that nothing downstream can log it. */
  function authenticated(params: Params, req: IncomingMessage, base: RequestContext): { params: Params; ctx: RequestContext } {
    const caller = auth.authenticate(params, req.headers);
    const { bk_app_secret: _secret, ...rest } = params;
    return { params: rest, ctx: { ...base, canSee: caller.canSee } };
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, match: Match, base: RequestContext): Promise<Answer | undefined> {
    const action = match.route.action;
    switch (action.kind) {
      case 'health':
        return { status: 200, envelope: ok({ ...health(engine), tasks: engine.snapshot().size, watchers: watches.open }, base) };
      case 'metrics': {
        const text = await metrics.text();
        send(res, 200, text, metrics.contentType, base.request_id!);
        return undefined;
      }
      case 'api': {
        const { params, ctx } = authenticated(await paramsOf(req, url, match), req, base);
        const minCursor = req.headers[MIN_CURSOR_HEADER];
        if (typeof minCursor === 'string' && params.min_cursor === undefined) params.min_cursor = minCursor;
        const run = (e: EnginePort) => action.run(e, params, ctx);
        // A shared engine answers its commands once applied; in process a command waits to be durable.
        const viaJournal = engine.command?.(match.route.name, params, ctx, run);
        const before = engine.cursor;
        const envelope = viaJournal !== undefined ? await viaJournal : await acknowledged(engine, before, await run(engine), ctx);
        return { status: statusOf(envelope), envelope, headers: engine.answerHeaders?.() };
      }
      case 'watch': {
        const { params, ctx } = authenticated(await paramsOf(req, url, match), req, base);
        const lastEventId = req.headers['last-event-id'] ?? params.last_event_id;
        // A cursor from another instance of a shared deployment: resume once this one has it (bounded).
        if (typeof lastEventId === 'string' && /^[0-9]{1,15}$/.test(lastEventId.trim())) await engine.reflect?.(Number(lastEventId.trim())).catch(() => undefined);
        const refused = await watches.start(res, {
          taskId: String(params.task_id),
          // "" is absent, as get_task_status reads it (the whole task)
          subprocessId: typeof params.subprocess_id === 'string' && params.subprocess_id !== '' ? params.subprocess_id : undefined,
          lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
          status: () => engine.getTaskStatus(params, ctx),
          headers: new Map([['X-Request-Id', base.request_id!]]),
        });
        return refused ? { status: statusOf(refused), envelope: refused } : undefined;
      }
    }
  }

  function answerError(error: unknown, req: IncomingMessage, base: RequestContext): Answer {
    if (error instanceof HttpRefusal) {
      const headers = new Map(error.headers);
      // After a refused or unread body the connection's framing cannot be trusted: close it.
      if (error.status === 413 || error.status === 408 || error.status === 400) headers.set('Connection', 'close');
      return { status: error.status, envelope: failure(error.code, error.message, base), headers };
    }
    if (error instanceof PipestateError) return { status: 200, envelope: failure(error.code, error.message, base) };
    logger.error(`request ${base.request_id} ${req.method} ${req.url} failed unexpectedly`, error);
    return { status: 500, envelope: failure(ERROR_CODES.unexpected, 'unexpected error', base) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, next: Next | undefined): Promise<void> {
    const started = process.hrtime.bigint();
    const base: RequestContext = { request_id: newId(), trace_id: traceIdOf(req.headers.traceparent) ?? newId() };
    let api = 'unknown';
    let answer: Answer | undefined;
    try {
      const url = parseUrl(req.url);
      const match = routes.match(req.method ?? '', url.pathname);
      if (match === undefined) {
        if (next) return next();
        throw noRoute(req.method ?? '', url.pathname);
      }
      if (match instanceof HttpRefusal) throw match;
      api = match.route.name;
      answer = await route(req, res, url, match, base);
    } catch (error) {
      answer = answerError(error, req, base);
    }
    if (answer) sendEnvelope(res, answer, base.request_id!);
    metrics.observe(api, answer?.envelope.code ?? 0, Number(process.hrtime.bigint() - started) / 1e9);
  }

  const handler = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    handle(req, res, next).catch((error: unknown) => {
      // Only a failure to write the answer gets here; the client is gone or the socket broken.
      logger.error('could not answer a request', error);
      res.destroy();
    });
  };
  return Object.assign(handler, {
    metrics,
    auth,
    changes,
    close(): void {
      watches.close();
      changes.close();
      metrics.close();
    },
  });
}

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://pipestate.invalid');
  } catch {
    throw malformedUrl();
  }
}

function sendEnvelope(res: ServerResponse, answer: Answer, requestId: string): void {
  send(res, answer.status, JSON.stringify(answer.envelope), 'application/json; charset=utf-8', requestId, answer.headers);
}

function send(res: ServerResponse, status: number, text: string, contentType: string, requestId: string, headers?: ReadonlyMap<string, string>): void {
  if (res.headersSent) {
    // A stream was already open (a watch): nothing more can be said in it.
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Request-Id', requestId);
  for (const [name, value] of headers ?? []) res.setHeader(name, value);
  res.end(text);
}
