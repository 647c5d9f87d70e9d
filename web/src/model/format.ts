/**
 * How the page writes states, durations and times: the CLI's symbols and colours (the colour is
 * never the only sign: the symbol and the state's name go with it), and the engine's rounding.
 */
import { STATE_STYLES, formatDuration } from '../../../src/cli/render.js';
import { elapsedSeconds } from '../../../src/query/elapsed.js';
import type { Json } from '../../../src/lifecycle/index.js';

export interface Look {
  readonly symbol: string;
  /** a CSS class per ANSI colour of the CLI: ansi-32 is green, … */
  readonly colour: string;
}

export function lookOf(state: string): Look {
  const style = STATE_STYLES.get(state);
  return style ? { symbol: style.symbol, colour: `ansi-${style.color}` } : { symbol: '?', colour: 'ansi-37' };
}

/** "1m15s"; "" for a node that never started. Rounded as the engine rounds elapsed_time. */
export function durationText(startedAt: number | null, finishedAt: number | null, now: number): string {
  return startedAt === null ? '' : formatDuration(elapsedSeconds(startedAt, finishedAt ?? now));
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `2024-01-01 12:00:03`, in this browser's time zone. */
export function timeText(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `12:00:03`, for the time axis. */
export function clockText(ms: number, withMs = false): string {
  const d = new Date(ms);
  const base = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withMs ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}

/** Error data as text: a string as it is, anything else as indented JSON. */
export const jsonText = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v, null, 2) ?? 'null');

/** The first line of error data, for a row. */
export const firstLine = (v: Json | undefined): string => jsonText(v).split(/\r\n|\r|\n/)[0];
