/** start_time / finish_time in the project's zone, state_refresh_at in UTC (SPEC §3.2). */
import { describe, expect, it } from 'vitest';
import { ZonedTimeFormat, isoUtcText } from '../../src/query/index.js';
import { ZoneOffsets } from '../../src/query/zone-offset.js';
import { clockedEngine, leaf, pipe, status, withProjects } from '../api/helpers.js';

const at = (iso: string): number => Date.parse(iso);

describe('local time text', () => {
  it.each([
    ['Asia/Shanghai', '2020-08-17T12:13:53.320Z', '2020-08-17 20:13:53 +0800'],
    ['Asia/Shanghai', '2020-08-17T12:13:53.999Z', '2020-08-17 20:13:53 +0800'],
    ['Asia/Shanghai', '2020-12-31T16:00:00.000Z', '2021-01-01 00:00:00 +0800'],
    ['UTC', '2020-08-17T12:13:53.320Z', '2020-08-17 12:13:53 +0000'],
    ['UTC', '1969-12-31T23:59:59.500Z', '1969-12-31 23:59:59 +0000'],
    ['UTC', '2024-02-29T23:59:59.000Z', '2024-02-29 23:59:59 +0000'],
    ['Asia/Kolkata', '2020-08-17T12:13:53.000Z', '2020-08-17 17:43:53 +0530'],
    ['Asia/Kathmandu', '2020-08-17T12:13:53.000Z', '2020-08-17 17:58:53 +0545'],
    ['America/St_Johns', '2020-01-01T00:00:00.000Z', '2019-12-31 20:30:00 -0330'],
    // local mean time before 1901: the offset has seconds, written as Python's %z writes it
    ['Asia/Shanghai', '1890-01-01T00:00:00.000Z', '1890-01-01 08:05:43 +080543'],
    ['America/New_York', '1880-01-01T00:00:00.000Z', '1879-12-31 19:03:58 -045602'],
  ])('%s %s → %s', (zone, iso, text) => {
    expect(new ZonedTimeFormat(zone).format(at(iso))).toBe(text);
  });

  it('follows America/New_York into daylight time on 2026-03-08', () => {
    const f = new ZonedTimeFormat('America/New_York');
    expect(f.format(at('2026-03-08T06:59:59.999Z'))).toBe('2026-03-08 01:59:59 -0500');
    expect(f.format(at('2026-03-08T07:00:00.000Z'))).toBe('2026-03-08 03:00:00 -0400');
    expect(f.format(at('2026-03-08T12:00:00.000Z'))).toBe('2026-03-08 08:00:00 -0400');
  });

  it('follows America/New_York back to standard time on 2026-11-01 (01:xx happens twice)', () => {
    const f = new ZonedTimeFormat('America/New_York');
    expect(f.format(at('2026-11-01T05:30:00.000Z'))).toBe('2026-11-01 01:30:00 -0400');
    expect(f.format(at('2026-11-01T05:59:59.000Z'))).toBe('2026-11-01 01:59:59 -0400');
    expect(f.format(at('2026-11-01T06:00:00.000Z'))).toBe('2026-11-01 01:00:00 -0500');
    expect(f.format(at('2026-11-01T06:30:00.000Z'))).toBe('2026-11-01 01:30:00 -0500');
  });

  it('finds a change inside an hour of UTC (Lord Howe moves by 30 minutes at 02:00 local)', () => {
    const f = new ZonedTimeFormat('Australia/Lord_Howe');
    // 2026-04-05 02:00 +1100 = 2026-04-04T15:00Z, back to +1030
    expect(f.format(at('2026-04-04T14:59:59.000Z'))).toBe('2026-04-05 01:59:59 +1100');
    expect(f.format(at('2026-04-04T15:00:00.000Z'))).toBe('2026-04-05 01:30:00 +1030');
  });

  it.each([
    // the 400-year leap day, and the century days that are not leap days
    ['2000-02-29T12:00:00.000Z', '2000-02-29 12:00:00 +0000', '2000-02-29 20:00:00 +0800'],
    ['2000-03-01T00:00:00.000Z', '2000-03-01 00:00:00 +0000', '2000-03-01 08:00:00 +0800'],
    ['1900-02-28T23:59:59.000Z', '1900-02-28 23:59:59 +0000', '1900-03-01 08:05:42 +080543'],
    ['2100-02-28T23:59:59.000Z', '2100-02-28 23:59:59 +0000', '2100-03-01 07:59:59 +0800'],
    ['2400-02-29T00:00:00.000Z', '2400-02-29 00:00:00 +0000', '2400-02-29 08:00:00 +0800'],
    // years outside 0..9999 are signed six-digit years, as Date#toISOString writes them
    ['0000-01-01T00:00:00.000Z', '0000-01-01 00:00:00 +0000', '0000-01-01 08:05:43 +080543'],
    ['-000001-12-31T23:59:59.000Z', '-000001-12-31 23:59:59 +0000', '0000-01-01 08:05:42 +080543'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31 23:59:59 +0000', '+010000-01-01 07:59:59 +0800'],
    // milliseconds at each padding width: one, two and three digits, and exactly 10 and 100
    ['2020-08-17T12:13:53.007Z', '2020-08-17 12:13:53 +0000', '2020-08-17 20:13:53 +0800'],
    ['2020-08-17T12:13:53.010Z', '2020-08-17 12:13:53 +0000', '2020-08-17 20:13:53 +0800'],
    ['2020-08-17T12:13:53.100Z', '2020-08-17 12:13:53 +0000', '2020-08-17 20:13:53 +0800'],
    ['+010000-01-01T00:00:00.000Z', '+010000-01-01 00:00:00 +0000', '+010000-01-01 08:00:00 +0800'],
    // the first and the last instant a Date can hold
    ['-271821-04-20T00:00:00.000Z', '-271821-04-20 00:00:00 +0000', '-271821-04-20 08:05:43 +080543'],
    ['+275760-09-13T00:00:00.000Z', '+275760-09-13 00:00:00 +0000', '+275760-09-13 08:00:00 +0800'],
  ])('%s: in UTC %s, in Asia/Shanghai %s', (iso, utc, shanghai) => {
    const ms = Date.parse(iso);
    expect(isoUtcText(ms)).toBe(iso);
    expect(new ZonedTimeFormat('UTC').format(ms)).toBe(utc);
    expect(new ZonedTimeFormat('Asia/Shanghai').format(ms)).toBe(shanghai);
  });

  it('finds a change in the middle of an hour of UTC (Lord Howe moves on by 30 minutes at 02:00 local)', () => {
    // 2026-10-04 02:00 +1030 = 2026-10-03T15:30Z, on to +1100
    const expected: [string, string][] = [
      ['2026-10-03T15:29:59.999Z', '2026-10-04 01:59:59 +1030'],
      ['2026-10-03T15:30:00.000Z', '2026-10-04 02:30:00 +1100'],
      ['2026-10-03T15:00:00.000Z', '2026-10-04 01:30:00 +1030'],
      ['2026-10-03T15:59:59.000Z', '2026-10-04 02:59:59 +1100'],
      ['2026-10-03T15:29:00.000Z', '2026-10-04 01:59:00 +1030'],
      ['2026-10-03T15:30:01.000Z', '2026-10-04 02:30:01 +1100'],
    ];
    // in every order: the first instant asked about decides how the hour is learned
    for (let first = 0; first < expected.length; first++) {
      const f = new ZonedTimeFormat('Australia/Lord_Howe');
      for (let k = 0; k < expected.length; k++) {
        const [iso, text] = expected[(first + k) % expected.length];
        expect(f.format(at(iso)), iso).toBe(text);
      }
    }
    const offsets = new ZoneOffsets('Australia/Lord_Howe');
    expect([at('2026-10-03T15:29:59.999Z'), at('2026-10-03T15:30:00.000Z')].map((ms) => offsets.secondsAt(ms))).toEqual([37_800, 39_600]);
  });

  it('a memo slot shared by two seconds answers each correctly', () => {
    const f = new ZonedTimeFormat('UTC');
    const a = at('2026-01-01T00:00:00Z');
    const b = a + 4096 * 1000; // same slot
    for (let k = 0; k < 3; k++) {
      expect(f.format(a)).toBe('2026-01-01 00:00:00 +0000');
      expect(f.format(b)).toBe('2026-01-01 01:08:16 +0000');
    }
  });

  it('state_refresh_at is ISO-8601 UTC with milliseconds', () => {
    expect(isoUtcText(at('2020-08-17T12:13:53.320Z'))).toBe('2020-08-17T12:13:53.320Z');
    expect(isoUtcText(at('2020-08-17T12:13:53.007Z') + 0.9)).toBe('2020-08-17T12:13:53.007Z');
    expect(isoUtcText(-1)).toBe('1969-12-31T23:59:59.999Z');
  });
});

describe('the offset memory of a zone', () => {
  /** A ZoneOffsets whose Intl is a counter: every hour is +08:00, and each question is counted. */
  function counted(): { offsets: ZoneOffsets; asked: () => number } {
    const offsets = new ZoneOffsets('Asia/Shanghai');
    let asked = 0;
    const fake = {
      formatToParts: () => {
        asked++;
        return [{ type: 'timeZoneName', value: 'GMT+08:00' }];
      },
    };
    Object.assign(offsets as unknown as { dtf: unknown }, { dtf: fake });
    return { offsets, asked: () => asked };
  }
  const HOUR = 3_600_000;

  it('asks about each hour once (its first and last second), then remembers it', () => {
    const { offsets, asked } = counted();
    expect(offsets.secondsAt(5 * HOUR + 123)).toBe(28_800);
    expect(asked()).toBe(2);
    expect(offsets.secondsAt(5 * HOUR + HOUR - 1)).toBe(28_800);
    expect(offsets.secondsAt(5 * HOUR)).toBe(28_800);
    expect(asked()).toBe(2);
    offsets.secondsAt(6 * HOUR);
    expect(asked()).toBe(4);
  });

  it('reads the offsets Intl writes, in every spelling (some ICU builds write U+2212 for the minus sign)', () => {
    const read = (name: string): number => {
      const offsets = new ZoneOffsets('UTC');
      Object.assign(offsets as unknown as { dtf: unknown }, { dtf: { formatToParts: () => [{ type: 'timeZoneName', value: name }] } });
      return offsets.secondsAt(0);
    };
    expect(read('GMT')).toBe(0);
    expect(read('GMT+08:00')).toBe(28_800);
    expect(read('GMT-03:30')).toBe(-12_600);
    expect(read('GMT\u221205:00')).toBe(-18_000);
    expect(read('GMT+08:05:43')).toBe(29_143);
    expect(read('GMT-04:56:02')).toBe(-17_762);
    for (const bad of ['', 'UTC', 'GMT+8', 'GMT+08:00 ', 'GMT+08:00:0']) {
      expect(() => read(bad), bad).toThrow(`unreadable UTC offset ${JSON.stringify(bad)} for time zone UTC`);
    }
  });

  it('forgets everything once it holds a million hours, and goes on answering', () => {
    const { offsets, asked } = counted();
    for (let h = 0; h < 1_000_000; h++) offsets.secondsAt(h * HOUR);
    expect(asked()).toBe(2_000_000);
    offsets.secondsAt(999_999 * HOUR); // remembered
    offsets.secondsAt(0);
    expect(asked()).toBe(2_000_000);
    expect(offsets.secondsAt(1_000_000 * HOUR)).toBe(28_800); // the million-and-first: memory starts over
    expect(asked()).toBe(2_000_002);
    expect(offsets.secondsAt(1_000_000 * HOUR + 1)).toBe(28_800);
    expect(asked()).toBe(2_000_002);
    expect(offsets.secondsAt(0)).toBe(28_800); // forgotten: asked again
    expect(asked()).toBe(2_000_004);
  });
});

describe('times in answers', () => {
  it.each([
    ['Asia/Shanghai', '2026-03-08 14:59:00 +0800', '2026-03-08 15:01:00 +0800'],
    ['UTC', '2026-03-08 06:59:00 +0000', '2026-03-08 07:01:00 +0000'],
    ['America/New_York', '2026-03-08 01:59:00 -0500', '2026-03-08 03:01:00 -0400'],
  ])('a node run across the New York spring change, in %s', (zone, start, finish) => {
    const c = withProjects(clockedEngine(at('2026-03-08T06:59:00.000Z')), zone);
    c.engine.createTask({ id: '10', project_id: '1', name: 'dst', pipeline: pipe('r', leaf('a')) });
    c.engine.start('10', 'r');
    c.engine.start('10', 'a');
    c.tick(120_000);
    c.engine.finish('10', 'a');
    const a = status(c.engine, '10').children.a;
    expect([a.start_time, a.finish_time, a.elapsed_time]).toEqual([start, finish, 120]);
    expect(a.state_refresh_at).toBe('2026-03-08T07:01:00.000Z');
  });

  it('a node run across the New York autumn change shows the repeated hour with both offsets', () => {
    const c = withProjects(clockedEngine(at('2026-11-01T05:30:00.000Z')), 'America/New_York');
    c.engine.createTask({ id: '10', project_id: '1', name: 'dst', pipeline: pipe('r', leaf('a')) });
    c.engine.start('10', 'r');
    c.engine.start('10', 'a');
    c.tick(3_600_000);
    c.engine.finish('10', 'a');
    const a = status(c.engine, '10').children.a;
    expect([a.start_time, a.finish_time, a.elapsed_time]).toEqual(['2026-11-01 01:30:00 -0400', '2026-11-01 01:30:00 -0500', 3600]);
  });

  it("each task answers in its own project's zone", () => {
    const c = withProjects(clockedEngine());
    c.engine.createTask({ id: '10', project_id: '1', name: 'sh', pipeline: pipe('r', leaf('a')) });
    c.engine.createTask({ id: '30', project_id: '3', name: 'utc', pipeline: pipe('r', leaf('a')) });
    c.engine.start('10', 'r');
    c.engine.start('30', 'r');
    const utc = c.engine.getTaskStatus({ bk_biz_id: '4', task_id: '30' }).data!;
    expect(status(c.engine, '10').start_time).toBe('2020-08-17 20:13:53 +0800');
    expect(utc.start_time).toBe('2020-08-17 12:13:53 +0000');
  });
});
