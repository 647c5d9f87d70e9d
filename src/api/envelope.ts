/**
 * Building the envelope of SPEC §3.5. Every request-shaped entry point answers through these,
 * so a client sees one shape whatever went wrong, and no internal message leaks: only a
 * PipestateError's message (written for clients) is passed on; anything else is 3599999.
 */
import { randomBytes } from 'node:crypto';
import { ERROR_CODES, PipestateError } from '../model/index.js';
import type { Envelope, RequestContext } from './types.js';

/** A new 32-hex id for request_id and trace_id. */
export const newId = (): string => randomBytes(16).toString('hex');

export function ok<T>(data: T, ctx: RequestContext = {}): Envelope<T> {
  return { result: true, data, code: 0, message: '', request_id: ctx.request_id ?? newId(), trace_id: ctx.trace_id ?? newId() };
}

export function failure<T = never>(code: number, message: string, ctx: RequestContext = {}): Envelope<T> {
  return { result: false, data: null, code, message, request_id: ctx.request_id ?? newId(), trace_id: ctx.trace_id ?? newId() };
}

/**
 * Any thrown value as an envelope. `onUnexpected` hears about errors that are not ours (a bug),
 * so the transport can log them; the client only learns that something unexpected happened.
 */
export function fromError<T = never>(error: unknown, ctx: RequestContext = {}, onUnexpected: (e: unknown) => void = () => {}): Envelope<T> {
  if (error instanceof PipestateError) return failure(error.code, error.message, ctx);
  onUnexpected(error);
  return failure(ERROR_CODES.unexpected, 'unexpected error', ctx);
}
