/** Time a test moves by hand: nothing runs until it says so, and no test sleeps. */
import type { TimerHandle, Timers } from '../../src/store/journal/index.js';

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
