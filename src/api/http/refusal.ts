/**
 * Every refusal the HTTP layer itself makes (before or around the engine), in one place. Each
 * carries the HTTP status and the envelope code of SPEC §3.5, so the handler answers all of them
 * the same way: the envelope, with a message written for the client.
 */
import { ERROR_CODES, type ErrorCode } from '../../model/index.js';

export class HttpRefusal extends Error {
  override readonly name = 'HttpRefusal';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** extra response headers, e.g. Allow on a 405 */
    readonly headers: ReadonlyMap<string, string> = new Map(),
  ) {
    super(message);
  }
}

export const noRoute = (method: string, path: string): HttpRefusal =>
  new HttpRefusal(404, ERROR_CODES.notFound, `no route for ${method} ${path}`);

export const methodNotAllowed = (method: string, allowed: readonly string[]): HttpRefusal =>
  new HttpRefusal(
    405,
    ERROR_CODES.invalid,
    `method ${method} is not allowed here; use ${allowed.join(' or ')}`,
    new Map([['Allow', allowed.join(', ')]]),
  );

export const tooLarge = (limit: number): HttpRefusal =>
  new HttpRefusal(413, ERROR_CODES.invalid, `request body exceeds the limit of ${limit} bytes`);

export const bodyTimeout = (ms: number): HttpRefusal =>
  new HttpRefusal(408, ERROR_CODES.invalid, `request body not received within ${ms} ms`);

export const malformedJson = (): HttpRefusal => new HttpRefusal(200, ERROR_CODES.invalid, 'request body is not valid JSON');

export const notAnObject = (): HttpRefusal => new HttpRefusal(200, ERROR_CODES.invalid, 'request body must be a JSON object');

export const malformedUrl = (): HttpRefusal => new HttpRefusal(400, ERROR_CODES.invalid, 'request URL is malformed');

// Authentication failures answer HTTP 200 with code 3540100, as the ESB does: bk-sops clients
// read `result` and `code`, not the HTTP status. The message never says which part was wrong
// beyond "credentials", so it cannot be used to probe for app codes.
export const badCredentials = (): HttpRefusal =>
  new HttpRefusal(200, ERROR_CODES.unauthenticated, 'app authentication failed: bk_app_code or bk_app_secret is wrong or missing');

export const usernameRequired = (): HttpRefusal =>
  new HttpRefusal(200, ERROR_CODES.unauthenticated, 'user authentication failed: bk_username is required');

export const badAuthorizationHeader = (): HttpRefusal =>
  new HttpRefusal(200, ERROR_CODES.unauthenticated, 'X-Bkapi-Authorization must be a JSON object');

/** Past the admission queue: the client should come back later, not pile up. */
export const busy = (what: string, retryAfterSeconds: number): HttpRefusal =>
  new HttpRefusal(
    503,
    ERROR_CODES.unexpected,
    `the service is busy: ${what}; retry after ${retryAfterSeconds} s`,
    new Map([['Retry-After', String(retryAfterSeconds)]]),
  );

export const requestTimedOut = (): HttpRefusal => new HttpRefusal(408, ERROR_CODES.invalid, 'request not received in time');

export const malformedBody = (): HttpRefusal =>
  new HttpRefusal(400, ERROR_CODES.invalid, 'the request body is malformed (its chunked encoding cannot be read)');

export const aborted = (): HttpRefusal => new HttpRefusal(400, ERROR_CODES.invalid, 'the request was aborted before its body was received');
