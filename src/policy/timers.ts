/**
 * When the engine itself must act later (a retry after an interval, a node past its timeout), it
 * asks a Timers for a call at a time on the engine's clock. The default drives node's timers
 * from that clock; tests give a ManualClock, which is both the clock and the timers, and move
 * time by hand: nothing in a test sleeps.
 */

export interface Timers {
  /**
   * Calls `run` once, when the engine clock reads `at` (ms since the epoch) or later. Returns a
   * function that cancels the call if it has not happened yet.
   */
  schedule(at: number, run: () => void): () => void;
}

/** setTimeout's longest delay; a longer wait is taken in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Timers on node's event loop, measured against `clock`. A timer that wakes early (the clock is
 * not Date.now, or it was set back) waits again for the rest. Timers are unref'd: pending policy
 * timers alone do not keep a process alive (a server's socket does).
 */
export function systemTimers(clock: () => number): Timers {
  return {
    schedule(at, run) {
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        const wait = at - clock();
        if (wait <= 0) {
          timer = undefined;
          run();
          return;
        }
        timer = setTimeout(arm, Math.min(wait, MAX_DELAY_MS));
        timer.unref();
      };
      timer = setTimeout(arm, Math.max(0, Math.min(at - clock(), MAX_DELAY_MS)));
      timer.unref();
      return () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      };
    },
  };
}
