/**
 * The CLI's HTTP client: GET a JSON answer, or open an event stream, with the app credentials
 * in the API gateway's X-Bkapi-Authorization header (kept out of URLs, shell history and logs).
 */
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Credentials {
  readonly appCode?: string;
  readonly appSecret?: string;
  readonly username: string;
}

/** `base` may carry a path prefix (a gateway stage such as /api/bk-sops/prod). */
export function apiUrl(base: string, segments: readonly string[], query: ReadonlyMap<string, string>): URL {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/${segments.map(encodeURIComponent).join('/')}/`;
  url.search = new URLSearchParams([...query]).toString();
  return url;
}

export function authHeaders(c: Credentials): Record<string, string> {
  const fields: Record<string, string> = { bk_username: c.username };
  if (c.appCode !== undefined) fields.bk_app_code = c.appCode;
  if (c.appSecret !== undefined) fields.bk_app_secret = c.appSecret;
  return { 'X-Bkapi-Authorization': JSON.stringify(fields) };
}

export class ClientError extends Error {
  override readonly name = 'ClientError';
}

/** Sends a request; resolves with the response once its headers arrive. */
export function open(
  url: URL,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(url, { method, headers: { Accept: 'application/json, text/event-stream', ...headers } });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', (e: NodeJS.ErrnoException) => reject(new ClientError(`cannot reach ${url.origin}: ${e.code ?? e.message}`)));
  });
  req.end(body);
  return { req, response };
}

export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** GET and parse JSON. Throws a ClientError when the server cannot be reached or answers no JSON. */
export async function getJson(url: URL, headers: Record<string, string>): Promise<unknown> {
  const res = await open(url, headers).response;
  const text = await readText(res);
  try {
    return JSON.parse(text);
  } catch {
    throw new ClientError(`${url.origin} answered HTTP ${res.statusCode} without JSON: ${text.slice(0, 200)}`);
  }
}
