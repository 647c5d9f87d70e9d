/**
 * Admission of heavy reads (get_task_status, get_tasks_status, get_task_node_detail and the
 * initial status of a watch): at most `concurrency` are in progress at once, from their first
 * slice to their last byte handed to the socket, and at most `queue` wait for a place, first come
 * first served. A request past both is refused at once (HTTP 503 with Retry-After) instead of
 * piling up: each answer in progress holds its answer tree in memory, and each one waiting holds
 * a socket.
 */

export interface AdmissionOptions {
  /** heavy reads in progress at once; default 4 */
  readonly concurrency: number;
  /** heavy reads waiting for a place; default 64 */
  readonly queue: number;
  /** seconds a refused client is told to wait (Retry-After); default 1 */
  readonly retryAfterSeconds: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = { concurrency: 4, queue: 64, retryAfterSeconds: 1 };

/** Gives the place back; calling it twice is harmless. */
export type Release = () => void;

export class Admission {
  private running = 0;
  private readonly waiting: ((release: Release) => void)[] = [];

  constructor(readonly options: AdmissionOptions = DEFAULT_ADMISSION) {
    for (const key of ['concurrency', 'queue', 'retryAfterSeconds'] as const) {
      const v = options[key];
      if (!Number.isSafeInteger(v) || v < (key === 'concurrency' ? 1 : 0))
        throw new RangeError(`admission ${key} must be a whole number${key === 'concurrency' ? ' ≥ 1' : ' ≥ 0'}`);
    }
  }

  /** A place now or later, or undefined when the queue is full too (refuse the request). */
  enter(): Promise<Release> | undefined {
    if (this.running < this.options.concurrency) {
      this.running++;
      return Promise.resolve(this.release());
    }
    if (this.waiting.length >= this.options.queue) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  get inProgress(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private release(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // The place passes straight to the next in line: `running` stays the same.
      if (next) next(this.release());
      else this.running--;
    };
  }
}
