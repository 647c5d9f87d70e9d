/**
 * A node:http server around the handler, with the timeouts that keep slow or stalled clients
 * from holding sockets: headers must arrive within `headersTimeoutMs`, the whole request within
 * `requestTimeoutMs`, and a body within the handler's `bodyTimeoutMs`. Requests too malformed
 * to reach the handler (bad HTTP, headers too large, too slow) are still answered the envelope.
 */
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ERROR_CODES } from '../../model/index.js';
import { failure } from '../envelope.js';
import { failBodyRead } from './body.js';
import { createHandler, type HandlerOptions, type PipestateHandler } from './handler.js';
import { malformedBody, requestTimedOut } from './refusal.js';
import type { EnginePort } from './port.js';
import { UiFiles, type UiOptions } from './ui.js';

export interface ServerOptions extends HandlerOptions {
  /** default 10 s */
  readonly headersTimeoutMs?: number;
  /** default 30 s; must be at least headersTimeoutMs */
  readonly requestTimeoutMs?: number;
  /** idle keep-alive sockets are closed after this; default 5 s */
  readonly keepAliveTimeoutMs?: number;
  /** serve the web view's built files at /ui/ (ui.ts); default: not served */
  readonly ui?: UiOptions;
}

/** Errors node:http raises before a request reaches the handler, as HTTP status and message. */
const CLIENT_ERRORS: ReadonlyMap<string, readonly [number, string]> = new Map([
  ['ERR_HTTP_REQUEST_TIMEOUT', [408, 'request not received in time']],
  ['HPE_HEADER_OVERFLOW', [431, 'request headers are too large']],
]);
const BAD_REQUEST: readonly [number, string] = [400, 'malformed HTTP request'];

const REASONS: ReadonlyMap<number, string> = new Map([
  [400, 'Bad Request'],
  [408, 'Request Timeout'],
  [431, 'Request Header Fields Too Large'],
]);

export class PipestateServer extends Server {
  /** the web view's files, when served */
  readonly ui: UiFiles | undefined;

  constructor(
    readonly handler: PipestateHandler,
    options: ServerOptions,
  ) {
    const ui = options.ui ? new UiFiles(options.ui.dir) : undefined;
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
    super(
      {
        headersTimeout,
        requestTimeout,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
        // how often node checks the two timeouts above; its default (30 s) would make them coarse
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
      },
      (req: IncomingMessage, res: ServerResponse) => {
        if (ui === undefined || !ui.handle(req, res)) handler(req, res);
      },
    );
    this.ui = ui;
    this.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));
  }

  /** Stops accepting connections, ends watch streams (which would otherwise hold it open) and detaches from the engine. */
  override close(callback?: (err?: Error) => void): this {
    this.handler.close();
    super.close(callback);
    this.closeIdleConnections();
    return this;
  }
}

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // A request is still being answered on this socket (node keeps its response in _httpMessage):
  // either its own body is malformed (bad chunked encoding), and the handler reading it is told
  // so and answers 400; or garbage follows a complete request (a body sent without
  // Content-Length). Either way that answer finishes, then the connection closes; a second
  // response on the same socket would corrupt the first.
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (pending && !pending.writableFinished) {
    failBodyRead(pending.req, error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? requestTimedOut() : malformedBody());
    pending.once('close', () => socket.destroy());
    return;
  }
  const [status, message] = CLIENT_ERRORS.get(error.code ?? '') ?? BAD_REQUEST;
  const body = JSON.stringify(failure(ERROR_CODES.invalid, message));
  socket.end(
    `HTTP/1.1 ${status} ${REASONS.get(status)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The handler served by a node:http server. Call `listen` on the result. */
export function createServer(engine: EnginePort, options: ServerOptions = {}): PipestateServer {
  return new PipestateServer(createHandler(engine, options), options);
}
