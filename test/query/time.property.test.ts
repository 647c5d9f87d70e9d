/** Local time text against Intl's own rendering, for any instant in any of a set of zones. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZonedTimeFormat } from '../../src/query/index.js';
import { referenceLocalTime as reference } from './reference.js';
import { runs } from '../fc-runs.js';

const ZONES = [
  'Asia/Shanghai',
  'UTC',
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Chatham',
  'Africa/Casablanca',
  'America/Santiago',
  'Europe/Dublin',
  'Asia/Tehran',
];

// One formatter per zone for the whole file, made on first use inside a test (code run while a
// file loads belongs to no test: mutation runs would count it as static).
const formats = new Map<string, ZonedTimeFormat>();
const formatIn = (zone: string): ZonedTimeFormat => {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new ZonedTimeFormat(zone);
    formats.set(zone, f);
  }
  return f;
};

describe('ZonedTimeFormat', () => {
  it('agrees with Intl for instants from 1900 to 2100', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(1900, 0, 2), max: Date.UTC(2100, 0, 1) }), (zone, ms) => {
        expect(formatIn(zone).format(ms)).toBe(reference(ms, zone));
      }),
      { numRuns: runs('queryTime') },
    );
  });

  it('agrees with Intl second by second around changes (near 2026 transitions)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.constantFrom(
          Date.UTC(2026, 2, 8, 7),
          Date.UTC(2026, 10, 1, 6),
          Date.UTC(2026, 2, 29, 1),
          Date.UTC(2026, 9, 25, 1),
          Date.UTC(2026, 3, 4, 15),
          Date.UTC(2026, 8, 26, 14),
        ),
        fc.integer({ min: -7200, max: 7200 }),
        (zone, change, seconds) => {
          const ms = change + seconds * 1000;
          expect(formatIn(zone).format(ms)).toBe(reference(ms, zone));
        },
      ),
      { numRuns: runs('queryTime') },
    );
  });
});
