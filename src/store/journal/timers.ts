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
