/**
 * Time as the journal's scheduling sees it, injectable so that tests step it by hand and never
 * sleep. `now` is a monotonic ms reading (it times fsync intervals, it is not the engine clock).
 */
export interface Timers {
  now(): number;
  /**
   * runs `fn` after `ms` (0: at the end of this turn of the event loop). A `background` timer
   * does not keep the process alive by itself (retention sweeps); a batch's timer does.
   */
  schedule(fn: () => void, ms: number, background?: boolean): TimerHandle;
  cancel(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: unknown };

type RealHandle = { readonly id: NodeJS.Immediate; readonly immediate: true } | { readonly id: NodeJS.Timeout; readonly immediate: false };

export const realTimers: Timers = {
  now: () => performance.now(),
  schedule: (fn, ms, background): RealHandle => {
    if (ms <= 0) return { id: setImmediate(fn), immediate: true };
    const id = setTimeout(fn, ms);
    if (background) id.unref();
    return { id, immediate: false };
  },
  // Each kind with its own clear: clearImmediate on a Timeout leaves that timeout uncancellable.
  cancel: (handle) => {
    const h = handle as RealHandle;
    if (h.immediate) clearImmediate(h.id);
    else clearTimeout(h.id);
  },
};

/** Timers a test drives: `advance(ms)` runs what falls due, in order. */
export class ManualTimers implements Timers {
  private time = 0;
  private queue: { at: number; order: number; fn: () => void; handle: TimerHandle }[] = [];
  private order = 0;

  now(): number {
    return this.time;
  }

  schedule(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = { id: ++this.order };
    this.queue.push({ at: this.time + Math.max(0, ms), order: this.order, fn, handle });
    return handle;
  }

  cancel(handle: TimerHandle): void {
    this.queue = this.queue.filter((t) => t.handle !== handle);
  }

  /** Moves time forward, running every timer that falls due (those they schedule too). */
  advance(ms = 0): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.queue.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) break;
      this.queue = this.queue.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = until;
  }

  get pending(): number {
    return this.queue.length;
  }
}
