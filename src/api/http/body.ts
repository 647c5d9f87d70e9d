/**
 * Request parameters: the query string, the body (a JSON object, else form fields), read with a size limit
 * and a deadline so that a large or slow body cannot hold the server's memory or a socket.
 * Values from query strings stay strings ("10" is not turned into 10): the engine validates the
 * fields, and SPEC §3.1 says which strings it accepts for which types.
 */
import type { IncomingMessage } from 'node:http';
import { aborted, bodyTimeout, malformedJson, notAnObject, tooLarge } from './refusal.js';

export type Params = Record<string, unknown>;

export interface BodyOptions {
  /** bytes; a larger body is refused with 413 */
  readonly limitBytes: number;
  /** ms to receive the whole body once the handler starts reading it; then 408 */
  readonly timeoutMs: number;
}

/**
 * Query string (or form body) to params. A repeated key becomes an array; so does a list field
 * (`task_id_list=1,2,3` or `task_id_list=1&task_id_list=2`), which a client has no other way to
 * send in a query string. Keys are own data properties, so `__proto__` is just a key.
 */
export function queryParams(search: URLSearchParams, listFields: ReadonlySet<string>): Params {
  const values = new Map<string, string[]>();
  for (const [key, value] of search) {
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  const out: Params = {};
  for (const [key, list] of values) {
    const value = listFields.has(key)
      ? list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')
      : list.length === 1 ? list[0] : list;
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const isPlainObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body as params; `{}` when there is none. Throws an HttpRefusal. */
export async function readBody(req: IncomingMessage, options: BodyOptions, listFields: ReadonlySet<string>): Promise<Params> {
  // Mounted behind a body parser (Express's express.json(), Connect's body-parser), the stream is
  // already consumed and the parsed body waits in req.body: use it instead of waiting forever.
  if (req.readableEnded) return fromParsed((req as IncomingMessage & { body?: unknown }).body, listFields);
  const raw = await readRaw(req, options);
  return parseBody(raw, req.headers['content-type'], listFields);
}

function fromParsed(body: unknown, listFields: ReadonlySet<string>): Params {
  if (body === undefined || body === null) return {};
  if (typeof body === 'string' || Buffer.isBuffer(body)) return parseBody(Buffer.from(body), undefined, listFields);
  if (!isPlainObject(body)) throw notAnObject();
  return body;
}

function parseBody(raw: Buffer, contentType: string | undefined, listFields: ReadonlySet<string>): Params {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw);
  } catch {
    throw malformedJson();
  }
  if (text.trim() === '') return {};
  // A body that parses as a JSON object is JSON, whatever it is labelled (bk-sops reads every
  // body as JSON, and `curl -d '{…}'` labels it a form); otherwise a form is form fields.
  let value: unknown;
  let parsed = true;
  try {
    value = JSON.parse(text);
  } catch {
    parsed = false;
  }
  if (parsed && isPlainObject(value)) return value;
  if ((contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return queryParams(new URLSearchParams(text), listFields);
  }
  if (!parsed) throw malformedJson();
  throw notAnObject();
}

function readRaw(req: IncomingMessage, { limitBytes, timeoutMs }: BodyOptions): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => stop(bodyTimeout(timeoutMs)), timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) stop(tooLarge(limitBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => stop(aborted());
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onAborted);
    };
    const onAborted = () => stop(aborted());
    // On a refusal the rest of the body is drained, not read: the response can still be written,
    // and the handler closes the connection after it.
    const stop = (error: Error) => {
      cleanup();
      req.resume();
      reject(error);
    };
    // 'close' before 'end': the client went away mid-body.
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onAborted);
  });
}
