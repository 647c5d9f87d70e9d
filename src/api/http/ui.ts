/**
 * The web view's files, served at /ui/. They are the output of `npm run build` (dist/ui/), read
 * once when the server starts and answered from memory: a request can only ever name one of the
 * files that were there, so no path reaches the file system. The page itself talks to the public
 * API and the watch stream like any other client; this module only hands out its files.
 *
 * The Content-Security-Policy allows nothing but this origin: no inline script, no other host.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const UI_PREFIX = '/ui';

export interface UiOptions {
  /** the directory of the built page (dist/ui) */
  readonly dir: string;
}

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.json', 'application/json; charset=utf-8'],
]);

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // always revalidated: a rebuilt page is picked up at the next load
  'Cache-Control': 'no-cache',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

const NOT_BUILT = Buffer.from(
  '<!doctype html><meta charset="utf-8"><title>pipestate</title>' +
    '<p>The web view is not built. Run <code>npm run build</code>, then restart pipestate.</p>\n',
);

export class UiFiles {
  private readonly assets = new Map<string, Asset>();

  /** Reads the built files; `built` is false when there are none (the page answers 503 saying so). */
  constructor(readonly dir: string) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      names = [];
    }
    for (const name of names) {
      const type = TYPES.get(extname(name));
      const path = join(dir, name);
      if (type === undefined || !statSync(path).isFile()) continue;
      const body = readFileSync(path);
      this.assets.set(name, { type, body, etag: `"${body.length.toString(16)}-${statSync(path).mtimeMs.toString(16)}"` });
    }
  }

  get built(): boolean {
    return this.assets.has('index.html');
  }

  /** Answers a request under /ui; false when the path is not the web view's (the API answers it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== UI_PREFIX && !path.startsWith(`${UI_PREFIX}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', Buffer.from('method not allowed\n'), { Allow: 'GET, HEAD' }, req.method);
      return true;
    }
    if (path === UI_PREFIX) {
      send(res, 301, 'text/plain; charset=utf-8', Buffer.from('moved\n'), { Location: `${UI_PREFIX}/` }, req.method);
      return true;
    }
    if (!this.built) {
      send(res, 503, 'text/html; charset=utf-8', NOT_BUILT, SECURITY_HEADERS, req.method);
      return true;
    }
    const name = path === `${UI_PREFIX}/` ? 'index.html' : path.slice(UI_PREFIX.length + 1);
    const asset = this.assets.get(name);
    if (asset === undefined) {
      send(res, 404, 'text/plain; charset=utf-8', Buffer.from('not found\n'), SECURITY_HEADERS, req.method);
      return true;
    }
    if (req.headers['if-none-match'] === asset.etag) {
      send(res, 304, asset.type, Buffer.alloc(0), { ...SECURITY_HEADERS, ETag: asset.etag }, 'HEAD');
      return true;
    }
    send(res, 200, asset.type, asset.body, { ...SECURITY_HEADERS, ETag: asset.etag }, req.method);
    return true;
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: Buffer,
  headers: Readonly<Record<string, string>>,
  method: string | undefined,
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', body.length);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(method === 'HEAD' ? undefined : body);
}
