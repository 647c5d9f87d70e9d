/**
 * UTC offsets of one IANA time zone, learned from Intl alone (no hand-written tables, so DST
 * rules come from the runtime's tz data) and remembered per hour of UTC.
 *
 * Asking Intl costs about a microsecond; a status answer may format two million timestamps, so
 * each hour is asked about once: if the offset is the same at its first and last second, that is
 * the offset for the whole hour (tz data never changes an offset twice within one hour); if not,
 * the second of the change is found by bisection and kept with the two offsets. Offsets and
 * changes are whole seconds, as in the tz data (local mean times such as +08:05:43 included).
 */

const HOUR_MS = 3_600_000;
/** the last instant a Date holds (and Intl formats): an hour of UTC starts there, and ends there */
const LAST_MS = 8.64e15;
/** bound on remembered hours per zone (~114 years of hours); past it the memory starts over */
const MAX_HOURS = 1_000_000;
/** `GMT`, `GMT+08:00`, `GMT-04:56:02` (some ICU builds write U+2212 for the minus sign) */
const LONG_OFFSET = /GMT(?:([+\-\u2212])(\d\d):(\d\d)(?::(\d\d))?)?$/;

/** An hour of UTC in which the offset changes. */
interface Change {
  /** ms: the first whole second with the new offset */
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

export class ZoneOffsets {
  private readonly dtf: Intl.DateTimeFormat;
  /** hour number → offset in seconds, for hours with one offset throughout */
  private readonly steady = new Map<number, number>();
  private readonly changes = new Map<number, Change>();

  /** Throws a RangeError when `zone` is not an IANA zone the runtime knows. */
  constructor(readonly zone: string) {
    this.dtf = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  }

  /** Seconds east of UTC at the instant `ms`. */
  secondsAt(ms: number): number {
    const hour = Math.floor(ms / HOUR_MS);
    const steady = this.steady.get(hour);
    if (steady !== undefined) return steady;
    const change = this.changes.get(hour) ?? this.learn(hour);
    if (typeof change === 'number') return change;
    return ms < change.at ? change.before : change.after;
  }

  private learn(hour: number): number | Change {
    if (this.steady.size + this.changes.size >= MAX_HOURS) {
      this.steady.clear();
      this.changes.clear();
    }
    const first = hour * HOUR_MS;
    let lo = first;
    let hi = Math.min(first + HOUR_MS - 1000, LAST_MS);
    const before = this.ask(lo);
    const after = this.ask(hi);
    if (before === after) {
      this.steady.set(hour, before);
      return before;
    }
    // Invariant: the offset is `before` at lo and `after` at hi.
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.ask(mid) === before) lo = mid;
      else hi = mid;
    }
    const change: Change = { at: hi, before, after };
    this.changes.set(hour, change);
    return change;
  }

  /** The offset Intl reports at `ms`, in seconds. */
  private ask(ms: number): number {
    const parts = this.dtf.formatToParts(ms);
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    const m = LONG_OFFSET.exec(name);
    if (m === null) throw new Error(`unreadable UTC offset ${JSON.stringify(name)} for time zone ${this.zone}`);
    if (m[1] === undefined) return 0;
    const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
    return m[1] === '+' ? seconds : -seconds;
  }
}
