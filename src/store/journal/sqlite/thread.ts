/**
 * The writer thread, seen from the main thread: requests in, one promise each, answered in
 * order. The thread keeps the process alive only while a request is pending, so an engine that
 * is idle does not hold the process open by itself.
 */
import { Worker } from 'node:worker_threads';
import type { Envelope, Reply, Request } from './protocol.js';

/** An error the thread reported, with SQLite's code (SQLITE_FULL…) when it had one. */
export class ThreadError extends Error {
  override readonly name = 'ThreadError';
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The writer thread's module next to this one: TypeScript when running from source (tsx), JavaScript when built. */
function spawn(): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(`./writer-thread${ext}`, import.meta.url);
  if (ext === '.js') return new Worker(url);
  // A worker does not inherit tsx's loader: register it there before importing the source.
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`, {
    eval: true,
  });
}

export class WriterThread {
  private readonly worker = spawn();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 0;
  private dead: Error | undefined;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.ok) p.resolve(r.value);
      else p.reject(new ThreadError(r.error.code, r.error.message));
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new ThreadError('THREAD_EXIT', `the journal thread stopped (exit code ${code})`)));
  }

  request<T = unknown>(r: Request): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.next;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...r, id } satisfies Envelope);
    });
  }

  async terminate(): Promise<void> {
    this.dead ??= new ThreadError('THREAD_EXIT', 'the journal is closed');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.dead ??= error;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}
