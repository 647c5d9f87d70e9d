/**
 * Runs the service's long jobs (large answers, the initial status of a watch, unpacking a large
 * definition) a little at a time, so that no request waits behind another's megabytes: a probe,
 * a node_event or a small query is answered between two slices of a 10^5-node tree.
 *
 * A job is a generator. It yields `undefined` at a checkpoint (it can be paused there), or a
 * promise it must wait for (the socket's 'drain': it is not run again until that settles, and
 * takes no turn meanwhile). On each turn of the event loop the slicer runs the ready jobs in
 * rotation until `budgetMs` of work is spent, then yields to the event loop with setImmediate,
 * which lets every pending I/O callback (new requests, writes, timers) run before the next turn.
 * So one turn blocks the loop for about budgetMs plus one checkpoint's work, whatever the number
 * of jobs, and the jobs share the remaining time fairly.
 */

/** What a job hands back at a checkpoint: nothing (paused), or something to wait for. */
// biome-ignore lint/suspicious/noConfusingVoidType: a query's Slices<T> yields void, and a job runs them as they are
export type Step = void | Promise<unknown>;
export type Job<T> = Generator<Step, T, undefined>;

/**
 * Yielded by a job about to do heavy work that cannot be taken back (start writing a large
 * answer): it ends the job's first slice (`start`), so the job is admitted before it writes.
 * Once running, it costs one turn.
 */
export const HEAVY: Step = Promise.resolve();

export interface SlicerOptions {
  /** ms of sliced work per turn of the event loop, all jobs together; default 2 */
  readonly budgetMs: number;
  /** ms, monotonic; default performance.now */
  readonly now: () => number;
}

export const DEFAULT_SLICER: SlicerOptions = { budgetMs: 2, now: () => performance.now() };

interface Running {
  readonly job: Job<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class Slicer {
  private readonly ready: Running[] = [];
  private scheduled = false;
  private turns = 0;
  /** ms first slices may still take before the event loop turns (they share one budget) */
  private startLeft: number;
  private startReset: NodeJS.Immediate | undefined;

  constructor(private readonly options: SlicerOptions = DEFAULT_SLICER) {
    this.startLeft = options.budgetMs;
  }

  /**
   * Runs a job's first slice now, in the caller's turn, until it ends or waits on a promise. A
   * light job (a small answer) is done there; a heavy one goes on with `run(job, waiting)`. The
   * first slices started in one turn of the event loop share one budgetMs (each gets at least
   * one checkpoint), so requests arriving together cannot hold the loop longer than sliced work.
   */
  start<T>(job: Job<T>): { readonly done: true; readonly value: T } | { readonly done: false; readonly waiting: Step } {
    const { now } = this.options;
    const t0 = now();
    const deadline = t0 + this.startLeft;
    if (this.startReset === undefined) {
      this.startReset = setImmediate(() => {
        this.startReset = undefined;
        this.startLeft = this.options.budgetMs;
      });
    }
    try {
      for (;;) {
        const next = job.next();
        if (next.done) return { done: true, value: next.value };
        if (next.value !== undefined || now() >= deadline) return { done: false, waiting: next.value };
      }
    } finally {
      this.startLeft = Math.max(0, this.startLeft - (now() - t0));
    }
  }

  /**
   * Runs a job to its end; settles with what it returns, or what it throws. `waiting`: what a
   * job started with `start` was waiting on when it paused.
   */
  run<T>(job: Job<T>, waiting?: Step): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const r: Running = { job, resolve: resolve as (v: unknown) => void, reject };
      if (waiting !== undefined) this.resumeAfter(r, waiting);
      else {
        this.ready.push(r);
        this.schedule();
      }
    });
  }

  /** Turns of the event loop that ran sliced work: what the metrics and the tests read. */
  get turnsRun(): number {
    return this.turns;
  }

  /** Jobs ready to run (not waiting on a promise). */
  get pending(): number {
    return this.ready.length;
  }

  private schedule(): void {
    if (this.scheduled || this.ready.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    this.turns++;
    const { now, budgetMs } = this.options;
    const deadline = now() + budgetMs;
    // Round robin, one checkpoint each, until the budget is spent: a large job cannot starve a small one.
    while (this.ready.length > 0) {
      const r = this.ready.shift()!;
      if (this.step(r)) this.ready.push(r);
      if (now() >= deadline) break;
    }
    this.schedule();
  }

  /** Runs one checkpoint of `r`; true when it is ready to run again. */
  private step(r: Running): boolean {
    let next: IteratorResult<Step, unknown>;
    try {
      next = r.job.next();
    } catch (error) {
      r.reject(error);
      return false;
    }
    if (next.done) {
      r.resolve(next.value);
      return false;
    }
    if (next.value === undefined) return true;
    this.resumeAfter(r, next.value);
    return false;
  }

  private resumeAfter(r: Running, waiting: Promise<unknown>): void {
    const resume = (): void => {
      this.ready.push(r);
      this.schedule();
    };
    waiting.then(resume, resume);
  }
}
