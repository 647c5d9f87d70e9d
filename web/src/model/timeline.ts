/**
 * The timeline's geometry: every attempt of a node as a bar on the node's row (ended attempts,
 * then the current one), the time span they cover, and the ticks of the time axis at a zoom.
 * Pure: times in ms in, pixels out.
 */
import type { State } from '../../../src/lifecycle/index.js';
import type { NodeModel, TaskModel } from './task-model.js';

export interface Bar {
  readonly start: number;
  /** the attempt's finish, or now while it runs */
  readonly end: number;
  readonly state: State;
  /** the attempt is under way (started, not finished) */
  readonly open: boolean;
  readonly loop: number;
  readonly retry: number;
  /** 1 for the first attempt */
  readonly attempt: number;
}

/** The bars of one node, oldest first; a node that never started has none. */
export function barsOf(n: NodeModel, now: number): Bar[] {
  const bars: Bar[] = [];
  const first = n.ended - n.attempts.length + 1;
  n.attempts.forEach((a, k) => {
    if (a.startedAt === null) return;
    bars.push({ start: a.startedAt, end: a.finishedAt ?? a.startedAt, state: a.state, open: false, loop: a.loop, retry: a.retry, attempt: first + k });
  });
  if (n.startedAt !== null) {
    bars.push({
      start: n.startedAt, end: n.finishedAt ?? Math.max(now, n.startedAt), state: n.state, open: n.finishedAt === null,
      loop: n.loop, retry: n.retry, attempt: first + n.attempts.length,
    });
  }
  return bars;
}

/** The span every bar falls in: from the first start to the last end (or now while one runs). */
export function spanOf(model: TaskModel, now: number): { start: number; end: number } | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const n of model.nodes) {
    for (const b of barsOf(n, now)) {
      if (b.start < start) start = b.start;
      if (b.end > end) end = b.end;
    }
  }
  return start === Infinity ? undefined : { start, end: Math.max(end, start + 1_000) };
}

/** Tick steps a person reads easily, ms. */
const STEPS = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Axis ticks at least `minGapPx` apart, at round times, across [start, end]. */
export function ticks(start: number, end: number, msPerPx: number, minGapPx = 90): { at: number; step: number }[] {
  const step = STEPS.find((s) => s / msPerPx >= minGapPx) ?? STEPS[STEPS.length - 1];
  const out: { at: number; step: number }[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end && out.length < 500; t += step) out.push({ at: t, step });
  return out;
}

/** Zoom levels: the fitted scale times a power of two, within sane bounds. */
export function zoomed(fit: number, level: number): number {
  return Math.min(86_400_000, Math.max(0.5, fit / 2 ** level));
}
