/**
 * Writing answers. A small answer goes out in one write with a Content-Length. A large one (more
 * than one piece of JSON text, see sliced-json.ts) is written piece by piece with chunked
 * transfer encoding, one piece per checkpoint of a slicer job, and whenever the socket's buffer
 * is full the job waits for 'drain' before serializing more: a client reading slowly holds back
 * its own answer, not the server's memory. A client that reads nothing for `stallMs` is
 * disconnected, so it cannot hold an admission place forever. Either way the bytes of the body
 * are exactly JSON.stringify's.
 */
import type { ServerResponse } from 'node:http';
import { peekPieces } from './sliced-json.js';
import { HEAVY, type Job } from './slicer.js';

export const JSON_TYPE = 'application/json; charset=utf-8';

export type Headers = ReadonlyMap<string, string>;

/** The headers every answer carries. */
function head(res: ServerResponse, status: number, contentType: string, requestId: string, headers?: Headers): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Request-Id', requestId);
  for (const [name, value] of headers ?? []) res.setHeader(name, value);
}

/** One write with a Content-Length (HEAD: the same headers, no body; node leaves it out). */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType: string,
  requestId: string,
  headers?: Headers,
): void {
  if (res.headersSent) {
    // A stream was already open (a watch): nothing more can be said in it.
    res.destroy();
    return;
  }
  head(res, status, contentType, requestId, headers);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * Settles when the socket has room again ('drain'), or the response is gone. After `stallMs`
 * without either, the client is taken to have stopped reading and is disconnected.
 */
export function drained(res: ServerResponse, stallMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('drain', done).off('close', done);
      resolve();
    };
    const timer = setTimeout(() => {
      res.destroy();
      done();
    }, stallMs);
    timer.unref();
    res.on('drain', done).on('close', done);
  });
}

/** Waits until a full socket has room again (or the response is gone). */
export type RoomWait = (res: ServerResponse) => Promise<void>;

/**
 * Writes pieces of text into an open response as a job: one piece per checkpoint, waiting with
 * `room` when the socket is full (`drained`, or a watch stream's own rule). Returns false when
 * the client went away first.
 */
export function* writePieces(res: ServerResponse, pieces: Iterator<string, void, undefined>, room: RoomWait): Job<boolean> {
  let p = pieces.next();
  while (!p.done) {
    if (res.destroyed) return false;
    const written = p.value === '' || res.write(p.value);
    p = pieces.next();
    // A checkpoint between pieces, not after the last: a small answer is written without one.
    if (!written) yield room(res);
    else if (!p.done) yield;
  }
  return !res.destroyed;
}

/**
 * Answers `value` as JSON, as a job. `HEAD` gets the headers only: a large answer stops being
 * serialized once its headers are known.
 */
export function* writeJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  requestId: string,
  stallMs: number,
  headers?: Headers,
): Job<void> {
  const { whole, pieces } = peekPieces(value);
  if (whole !== undefined) {
    sendText(res, status, whole, JSON_TYPE, requestId, headers);
    return;
  }
  // A large answer: admitted before its first byte (the admission queue may still refuse it).
  yield HEAVY;
  head(res, status, JSON_TYPE, requestId, headers);
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  if (yield* writePieces(res, pieces, (r) => drained(r, stallMs))) res.end();
}
