/**
 * The framework-neutral request handler: `(req, res, next?)`. It works as a node:http request
 * listener, and as Express or Connect middleware: mounted under a prefix it routes on the
 * mount-relative `req.url` those frameworks give it, behind a body parser it uses `req.body`,
 * and a path it does not know goes to `next()` when there is one (else 404).
 *
 * Every answer is the envelope of SPEC §3.5, failures included. Errors that are not refusals are
 * bugs: they are logged with the request id and answered 3599999 without their message.
 *
 * Reads whose answers can be large (a whole tree, a batch with children, a node's detail) are
 * admitted through a bounded queue (admission.ts), then built and written in slices between
 * other requests (slicer.ts, answer-writer.ts), so no answer holds the service. Who is calling,
 * and with what parameters, is found cheapest refusal first (intake.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, PipestateError } from '../../model/index.js';
import { failure, newId, ok } from '../envelope.js';
import type { Envelope, RequestContext } from '../types.js';
import { acknowledged, health } from './acknowledge.js';
import { appAuthenticator, noAuth, type Authenticator } from './auth.js';
import { ChangeLog, DEFAULT_RETENTION, type RetentionOptions } from './change-log.js';
import type { AppConfig } from './config.js';
import { Admission, DEFAULT_ADMISSION, type AdmissionOptions } from './admission.js';
import { JSON_TYPE, sendText, writeJson, type Headers } from './answer-writer.js';
import { DEFAULT_SCAN, type ScanLimits } from './credential-scan.js';
import { Intake } from './intake.js';
import { HttpMetrics } from './metrics.js';
import type { EnginePort } from './port.js';
import { HttpRefusal, busy, malformedUrl, noRoute } from './refusal.js';
import type { Params } from './body.js';
import { RouteTable, type Match } from './routes.js';
import { DEFAULT_SLICER, Slicer, type Job, type SlicerOptions } from './slicer.js';
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
  /** bytes of a request body (create_task's aside); default 1 MiB */
  readonly bodyLimitBytes?: number;
  /** bytes of a create_task body (a whole pipeline definition); default 64 MiB */
  readonly definitionLimitBytes?: number;
  /** ms to receive a request body; default 10 s */
  readonly bodyTimeoutMs?: number;
  /** bounds of the credential scan of ESB-style bodies (keys, depth, credential size) */
  readonly scan?: Partial<ScanLimits>;
  /** how long a watcher can resume; default 10,000 changes / 10 minutes */
  readonly retention?: Partial<RetentionOptions>;
  readonly watch?: Partial<WatchOptions>;
  /** heavy reads in progress and waiting; default 4 and 64, then 503 with Retry-After: 1 */
  readonly admission?: Partial<AdmissionOptions>;
  /** ms of sliced work per turn of the event loop; default 2 */
  readonly slicer?: Partial<SlicerOptions>;
  /** ms a client may read nothing of a large answer before it is disconnected; default 30 s */
  readonly answerStallMs?: number;
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
  readonly admission: Admission;
  readonly slicer: Slicer;
  readonly intake: Intake;
  /** Detaches from the engine, ends every watch stream and stops the definition parser's thread. */
  close(): void;
}

interface Answer {
  readonly status: number;
  readonly envelope: Envelope<unknown>;
  readonly headers?: Headers;
}

/** The route wrote its answer itself (a sliced answer, a stream, metrics); its envelope code, for the metrics. */
interface Written {
  readonly written: number;
}

const statusOf = (env: Envelope<unknown>): number => (env.code === ERROR_CODES.unexpected ? 500 : 200);

export function createHandler(engine: EnginePort, options: HandlerOptions = {}): PipestateHandler {
  const auth = options.noAuth ? noAuth : appAuthenticator(options.apps ?? []);
  const logger = options.logger ?? stderrLogger;
  const routes = new RouteTable();
  const metrics = new HttpMetrics(engine);
  const changes = new ChangeLog(engine, { ...DEFAULT_RETENTION, ...options.retention });
  const watches = new Watches(engine, changes, { ...DEFAULT_WATCH, ...options.watch }, admitted);
  const admission = new Admission({ ...DEFAULT_ADMISSION, ...options.admission });
  const slicer = new Slicer({ ...DEFAULT_SLICER, ...options.slicer });
  const stallMs = options.answerStallMs ?? 30_000;
  const intake = new Intake(
    auth,
    {
      maxBodyBytes: options.bodyLimitBytes ?? 1 << 20,
      maxDefinitionBytes: options.definitionLimitBytes ?? 64 << 20,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
      scan: { ...DEFAULT_SCAN, ...options.scan },
    },
    slicer,
  );

  /**
   * Runs a job that may be heavy. Its first slice runs at once: a light job (a small answer, the
   * common case) is done there, with no place taken. One that goes on is heavy: it needs a place
   * in the admission queue (503 when the queue is full too), and continues in slices once it has
   * one. A client that left while waiting is not worked for.
   */
  async function admitted<T>(res: ServerResponse, job: () => Job<T>, streaming = false): Promise<T | undefined> {
    const j = job();
    const wasOpen = res.headersSent;
    const first = slicer.start(j);
    if (first.done) return first.value;
    // It opened the response in its first slice (large answers yield HEAVY before their first
    // byte, so this is the small rest of a light one, cut by a busy turn): it goes on, it cannot
    // be refused now. Work inside a stream already open (`streaming`) is admitted like any other.
    if (!streaming && !wasOpen && res.headersSent) return slicer.run(j, first.waiting);
    const entered = admission.enter();
    if (!entered) {
      j.return(undefined as T);
      const { concurrency, queue, retryAfterSeconds } = admission.options;
      throw busy(`${concurrency} large reads are in progress and ${queue} are waiting`, retryAfterSeconds);
    }
    const release = await entered;
    try {
      if (res.destroyed) {
        j.return(undefined as T);
        return undefined;
      }
      return await slicer.run(j, first.waiting);
    } finally {
      release();
    }
  }

  /** A read answered in slices: built from one snapshot, then written as the socket takes it. */
  function* readJob(
    res: ServerResponse,
    work: Generator<void, Envelope<unknown>, undefined>,
    stored: () => Envelope<unknown> | Promise<Envelope<unknown>>,
    requestId: string,
  ): Job<number> {
    let envelope = yield* work;
    if (envelope.code === ERROR_CODES.notFound) {
      // Not in memory: an engine with storage behind it may still hold the task (archived).
      const again = Promise.resolve(stored()).then((e) => {
        envelope = e;
      });
      yield again;
    }
    yield* writeJson(res, statusOf(envelope), envelope, requestId, stallMs, engine.answerHeaders?.());
    return envelope.code;
  }

  /** The X-Pipestate-Min-Cursor header, as the `min_cursor` field when the request has none. */
  function withMinCursor(req: IncomingMessage, params: Params): void {
    const minCursor = req.headers[MIN_CURSOR_HEADER];
    if (typeof minCursor === 'string' && params.min_cursor === undefined) params.min_cursor = minCursor;
  }

  /** Waits until the engine reflects the read's `min_cursor`; the refusal when it cannot. */
  async function reflected(params: Params): Promise<PipestateError | undefined> {
    if (params.min_cursor === undefined || engine.reflect === undefined) return undefined;
    try {
      await engine.reflect(Number(params.min_cursor));
      return undefined;
    } catch (error) {
      if (error instanceof PipestateError) return error;
      throw error;
    }
  }

  /** The caller's parameters (intake.ts) and the context the engine answers them in. */
  async function authenticated(
    req: IncomingMessage,
    url: URL,
    match: Match,
    base: RequestContext,
  ): Promise<{ params: Params; ctx: RequestContext }> {
    const { params, caller } = await intake.read(req, url, match);
    return { params, ctx: { ...base, canSee: caller.canSee } };
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    match: Match,
    base: RequestContext,
  ): Promise<Answer | Written | undefined> {
    const action = match.route.action;
    switch (action.kind) {
      case 'health':
        return { status: 200, envelope: ok({ ...health(engine), tasks: engine.snapshot().size, watchers: watches.open }, base) };
      case 'metrics': {
        const text = await metrics.text();
        sendText(res, 200, text, metrics.contentType, base.request_id!);
        return { written: 0 };
      }
      case 'api': {
        const { params, ctx } = await authenticated(req, url, match, base);
        withMinCursor(req, params);
        const run = (e: EnginePort) => action.run(e, params, ctx);
        // A shared engine answers its commands once applied; in process a command waits to be durable.
        const viaJournal = engine.command?.(match.route.name, params, ctx, run);
        const before = engine.cursor;
        const envelope = viaJournal !== undefined ? await viaJournal : await acknowledged(engine, before, await run(engine), ctx);
        return { status: statusOf(envelope), envelope, headers: engine.answerHeaders?.() };
      }
      case 'read': {
        const { params, ctx } = await authenticated(req, url, match, base);
        withMinCursor(req, params);
        // A shared engine first applies the cursor the read names (bounded wait, else refused).
        const behind = await reflected(params);
        if (behind !== undefined)
          return { status: 200, envelope: failure(behind.code, behind.message, ctx), headers: engine.answerHeaders?.() };
        const code = await admitted(res, () =>
          readJob(res, action.run(engine, params, ctx), () => action.stored(engine, params, ctx), base.request_id!),
        );
        return code === undefined ? undefined : { written: code };
      }
      case 'watch': {
        const { params, ctx } = await authenticated(req, url, match, base);
        const lastEventId = req.headers['last-event-id'] ?? params.last_event_id;
        // A cursor from another instance of a shared deployment: resume once this one has it (bounded).
        if (typeof lastEventId === 'string' && /^[0-9]{1,15}$/.test(lastEventId.trim()))
          await engine.reflect?.(Number(lastEventId.trim())).catch(() => undefined);
        const refused = await watches.start(res, {
          taskId: String(params.task_id),
          // "" is absent, as get_task_status reads it (the whole task)
          subprocessId: typeof params.subprocess_id === 'string' && params.subprocess_id !== '' ? params.subprocess_id : undefined,
          lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
          status: () => engine.getTaskStatusSliced(params, ctx),
          headers: new Map([['X-Request-Id', base.request_id!]]),
        });
        return refused ? { status: statusOf(refused), envelope: refused } : undefined;
      }
    }
  }

  function answerError(error: unknown, req: IncomingMessage, base: RequestContext): Answer {
    const headers = new Map(error instanceof HttpRefusal ? error.headers : []);
    // Refused before its body had all arrived (credentials checked first, a body too large or too
    // slow): what is still coming is drained, not read, and the connection closed after the answer.
    if ((hasBody(req) && !req.complete) || (error instanceof HttpRefusal && [400, 408, 413].includes(error.status))) {
      headers.set('Connection', 'close');
      req.resume();
    }
    if (error instanceof HttpRefusal) return { status: error.status, envelope: failure(error.code, error.message, base), headers };
    if (error instanceof PipestateError) return { status: 200, envelope: failure(error.code, error.message, base), headers };
    logger.error(`request ${base.request_id} ${req.method} ${req.url} failed unexpectedly`, error);
    return { status: 500, envelope: failure(ERROR_CODES.unexpected, 'unexpected error', base), headers };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, next: Next | undefined): Promise<void> {
    const started = process.hrtime.bigint();
    const base: RequestContext = { request_id: newId(), trace_id: traceIdOf(req.headers.traceparent) ?? newId() };
    let api = 'unknown';
    let answer: Answer | Written | undefined;
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
    if (answer && 'envelope' in answer) sendEnvelope(res, answer, base.request_id!);
    const code = answer === undefined ? 0 : 'written' in answer ? answer.written : answer.envelope.code;
    metrics.observe(api, code, Number(process.hrtime.bigint() - started) / 1e9);
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
    admission,
    slicer,
    intake,
    close(): void {
      watches.close();
      intake.close();
      changes.close();
      metrics.close();
    },
  });
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://pipestate.invalid');
  } catch {
    throw malformedUrl();
  }
}

function sendEnvelope(res: ServerResponse, answer: Answer, requestId: string): void {
  sendText(res, answer.status, JSON.stringify(answer.envelope), JSON_TYPE, requestId, answer.headers);
}
