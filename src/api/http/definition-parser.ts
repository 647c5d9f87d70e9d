/**
 * create_task bodies parsed and compiled on a worker thread. A 10^5-node definition is ~5 MB of
 * JSON: JSON.parse takes ~40 ms and compiling ~100 ms, a 10^6-node one ~2 s, and on the event
 * loop that is a frozen service. Here the raw body goes to one worker thread (transferred, not
 * copied), which parses it and compiles the pipeline; the packed result comes back and is
 * unpacked in slices (see model/precompiled.ts). The event loop's share is a few milliseconds,
 * spread over turns.
 *
 * One worker, started on first use and kept (unref'd, so it never holds the process open); at most
 * `queue` bodies wait for it, past that create_task is refused with 503 like an over-full read
 * queue. A worker that dies is replaced, and what it held is refused as unexpected.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { refusedDefinition, unpackDefinition, type Slices } from '../../model/index.js';
import type { ParseReply } from './definition-worker.js';
import type { Params } from './body.js';
import { malformedJson, notAnObject } from './refusal.js';

/** Bodies smaller than this are parsed on the event loop: under ~1 ms, less than a worker round trip. */
export const OFF_THREAD_BYTES = 64 * 1024;

export interface ParsedBody {
  /** the body's fields, `pipeline` aside */
  readonly params: Params;
  /**
   * The pipeline, to be unpacked in slices: the compiled definition, or a stand-in that the
   * store refuses with the problem found. Absent when the body has none.
   */
  readonly pipeline?: Slices<unknown>;
}

interface Waiting {
  readonly resolve: (reply: ParseReply) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The worker: the compiled .js next to this file; or, when this file is the TypeScript source
 * (tests, the bench), the .ts source loaded through tsx, registered in the worker first (a worker
 * does not take --import from its parent).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./definition-worker.js', import.meta.url));
  // tsx's ESM API registers its loader in the thread that calls it; then the source can load.
  // (require.resolve finds the API's CommonJS build; its ES module twin sits beside it.)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const source = new URL('./definition-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`, {
    eval: true,
  });
}

export class DefinitionParser {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;

  constructor(readonly queue = 8) {}

  /** Bodies in the worker or waiting for it. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Is there room for one more? (Past `queue` the caller refuses with 503.) */
  get full(): boolean {
    return this.waiting.size >= this.queue;
  }

  /** Parses a create_task body. Throws the HttpRefusal a malformed body gets. */
  async parse(body: Buffer): Promise<ParsedBody> {
    const reply = await this.send(body);
    if ('failure' in reply) throw reply.failure === 'json' ? malformedJson() : notAnObject();
    const p = reply.pipeline;
    if (p === undefined) return { params: reply.params };
    // A refusal as sliced work: the store raises it when it runs the first slice.
    const refused = (problem: string): Slices<unknown> =>
      (function* () {
        yield;
        return refusedDefinition(problem);
      })();
    return { params: reply.params, pipeline: 'packed' in p ? unpackDefinition(p.packed) : refused(p.problem) };
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
    for (const w of this.waiting.values()) w.reject(new Error('the definition parser was closed'));
    this.waiting.clear();
  }

  private send(body: Buffer): Promise<ParseReply> {
    const id = this.next++;
    // Transfer the bytes when they own their memory; copy them out of a shared pool otherwise.
    const own = body.byteOffset === 0 && body.buffer.byteLength === body.length ? new Uint8Array(body.buffer) : new Uint8Array(body);
    return new Promise<ParseReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.started().postMessage({ id, body: own }, [own.buffer as ArrayBuffer]);
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.unref();
    worker.on('message', (reply: ParseReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      w?.resolve(reply);
    });
    const lost = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the definition parser's worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
