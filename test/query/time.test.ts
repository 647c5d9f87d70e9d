/** start_time / finish_time in the project's zone, state_refresh_at in UTC (SPEC §3.2). */
import { describe, expect, it } from 'vitest';
import { ZonedTimeFormat, isoUtcText } from '../../src/query/index.js';
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

  it('each task answers in its own project\'s zone', () => {
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
