/**
 * The handler mounted the way Connect and Express mount middleware: a `(req, res, next)` chain
 * that strips the mount prefix from req.url, a body parser in front that consumes the stream and
 * leaves req.body, and a fall-through to `next()` for paths the handler does not know. And the
 * handler alone as a plain node:http request listener.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler, type Next, type PipestateHandler } from '../../src/api/http/handler.js';
import { ALPHA, APPS, qs, seededEngine, send } from './helpers.js';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** The core of Connect's dispatcher: layers matched by path prefix, which is stripped while a layer runs. */
function connectLike() {
  const stack: { route: string; handle: Middleware }[] = [];
  const app = (req: IncomingMessage, res: ServerResponse) => {
    let index = 0;
    const originalUrl = req.url ?? '/';
    const next: Next = (error?: unknown) => {
      req.url = originalUrl;
      const layer = stack[index++];
      if (!layer) {
        res.statusCode = error ? 500 : 404;
        res.end(error ? 'final handler: error' : 'final handler: not found');
        return;
      }
      const path = originalUrl.split('?')[0];
      if (layer.route !== '/' && path !== layer.route && !path.startsWith(`${layer.route}/`)) return next(error);
      if (layer.route !== '/') req.url = originalUrl.slice(layer.route.length) || '/';
      try {
        layer.handle(req, res, next);
      } catch (e) {
        next(e);
      }
    };
    next();
  };
  return Object.assign(app, { use: (route: string, handle: Middleware) => stack.push({ route, handle }) });
}

/** Like express.json(): parses JSON bodies into req.body and consumes the stream. */
const jsonParser: Middleware = (req, _res, next) => {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return next();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    (req as IncomingMessage & { body?: unknown }).body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    next();
  });
};

let server: Server | undefined;
let handler: PipestateHandler | undefined;
afterEach(async () => {
  handler?.close();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function listen(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createHttpServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('mounted like Connect/Express middleware', () => {
  it('routes on the mount-relative URL, uses a parsed req.body, and falls through to next()', async () => {
    const engine = seededEngine();
    engine.start('10', 'root');
    handler = createHandler(engine, { apps: APPS });
    const app = connectLike();
    app.use('/', jsonParser);
    app.use('/sops', handler);
    app.use('/', (_req, res) => res.end('after pipestate'));
    const base = await listen(app);

    const status = await send(base, 'GET', '/sops/get_task_status/10/2/', { query: qs(ALPHA) });
    expect(status.json).toMatchObject({ result: true, data: { id: 'root', state: 'RUNNING' } });
    const esb = await send(base, 'POST', '/sops/api/c/compapi/v2/sops/get_task_status/', {
      body: { ...ALPHA, bk_biz_id: '2', task_id: '10' },
    });
    expect(esb.json).toMatchObject({ result: true });

    const paused = await send(base, 'POST', '/sops/operate_task/10/2/', { body: { ...ALPHA, action: 'pause' } });
    expect(paused.json).toMatchObject({ result: true });
    expect(engine.snapshot().getNode('10', 'root')!.state).toBe('SUSPENDED');

    expect((await send(base, 'GET', '/sops/not-ours')).text).toBe('after pipestate');
    expect((await send(base, 'GET', '/elsewhere')).text).toBe('after pipestate');
    // a known path with a wrong method is ours to answer, not a fall-through
    expect((await send(base, 'GET', '/sops/operate_task/10/2/')).status).toBe(405);
  });

  it('works alone as a node:http request listener', async () => {
    const engine = seededEngine();
    handler = createHandler(engine, { apps: APPS });
    const base = await listen(handler);
    expect((await send(base, 'GET', '/get_task_status/10/2/', { query: qs(ALPHA) })).json).toMatchObject({ result: true });
    expect((await send(base, 'GET', '/nope')).status).toBe(404);
  });
});
