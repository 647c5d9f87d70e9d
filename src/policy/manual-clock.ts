/**
 * A clock that moves only when told, and the timers that go with it: `advance(ms)` runs every
 * call that falls due on the way, in time order, with the clock reading each call's own time
 * while it runs. Tests drive the engine's policies with it; an embedder can use it to replay or
 * simulate a run faster than real time.
 *
 *   const time = new ManualClock(Date.parse('2026-03-08T06:59:00Z'));
 *   const engine = createEngine({ clock: time.now, timers: time });
 *   time.advance(30_000);   // everything due within the next 30 s happens now
 */
import type { Timers } from './timers.js';

interface Due {
  readonly at: number;
  /** order of scheduling, so calls due at the same time run first-come first-served */
  readonly order: number;
  readonly run: () => void;
}

export class ManualClock implements Timers {
  private time: number;
  private queue: Due[] = [];
  private scheduled = 0;

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError('ManualClock: start must be a finite number of ms');
    this.time = start;
  }

  /** The clock, as a function to pass as the engine's `clock`. */
  readonly now = (): number => this.time;

  schedule(at: number, run: () => void): () => void {
    const due: Due = { at, order: this.scheduled++, run };
    this.queue.push(due);
    return () => {
      this.queue = this.queue.filter((d) => d !== due);
    };
  }

  /** Calls not yet run. */
  get pending(): number {
    return this.queue.length;
  }

  /** When the next call is due, or undefined when none is pending. */
  get next(): number | undefined {
    return this.earliest()?.at;
  }

  /**
   * Moves the clock forward by `ms`, running each call due on the way (including calls that a
   * call schedules within the same span) at its own time.
   */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError('ManualClock: advance by a finite number of ms, at least 0');
    const end = this.time + ms;
    for (let due = this.earliest(); due !== undefined && due.at <= end; due = this.earliest()) {
      this.queue = this.queue.filter((d) => d !== due);
      this.time = Math.max(this.time, due.at);
      due.run();
    }
    this.time = end;
  }

  private earliest(): Due | undefined {
    let best: Due | undefined;
    for (const d of this.queue) if (best === undefined || d.at < best.at || (d.at === best.at && d.order < best.order)) best = d;
    return best;
  }
}
