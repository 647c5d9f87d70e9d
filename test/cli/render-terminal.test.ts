/**
 * What a terminal shows: wide characters and emoji take two cells, server data cannot move the
 * cursor or break the columns, long names are cut to the terminal's width, the header says how
 * bk_biz_id was read, and running durations can be advanced between fetches.
 */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/render.js';
import { displayWidth, escapeControls, truncate } from '../../src/cli/text-width.js';

const node = (id: string, state: string, name: string, extra: Record<string, unknown> = {}, children: Record<string, unknown> = {}) => ({
  id,
  state,
  name,
  retry: 0,
  loop: 1,
  skip: false,
  error_ignorable: false,
  version: 'v',
  state_refresh_at: '2024-01-01T00:00:00.000Z',
  elapsed_time: 3,
  children,
  start_time: '2024-01-01 12:00:00 +0800',
  finish_time: '2024-01-01 12:00:03 +0800',
  ...extra,
});

describe('display width', () => {
  it('counts emoji and East Asian wide characters as two cells, combining marks and ZWJ sequences as one character', () => {
    expect([
      displayWidth('🚀'),
      displayWidth('🚀 launch'),
      displayWidth('部署'),
      displayWidth('👨‍👩‍👧'),
      displayWidth('🇨🇳'),
      displayWidth('e\u0301'),
      displayWidth('☔'),
      displayWidth('✔'),
      displayWidth('\x1b[31m✖\x1b[0m'),
    ]).toEqual([2, 9, 4, 2, 2, 1, 2, 1, 1]);
  });

  it('cuts to a width with an ellipsis, never through a wide character, keeping colours closed', () => {
    expect(truncate('部署到集群', 6)).toBe('部署…');
    expect(truncate('🚀🚀🚀', 4)).toBe('🚀…');
    expect(truncate('\x1b[32m✔\x1b[0m Compile everything', 8)).toBe('\x1b[32m✔\x1b[0m Compi…\x1b[0m');
    expect(displayWidth(truncate('x'.repeat(50), 10))).toBe(10);
  });

  it('escapes tabs and control characters', () => {
    expect(escapeControls('a\tb\r\n\x1b[2Jc\x07\x7f\x9b')).toBe('a\\tb\\r\\n\\x1b[2Jc\\x07\\x7f\\x9b');
  });
});

describe('renderStatus in a terminal', () => {
  it('lines up the columns of a row with an emoji name', () => {
    const lines = renderStatus(
      node('r', 'FINISHED', 'Release', {}, { a: node('a', 'FINISHED', '🚀 Launch'), b: node('b', 'FINISHED', 'Land') }),
      { color: false },
    );
    expect(lines.slice(-3)).toEqual([' ✔ Release      r   3s', ' ├─✔ 🚀 Launch  a   3s', ' └─✔ Land       b   3s']);
    // the cells before the duration are as wide on every row
    expect(lines.slice(-3).map((l) => displayWidth(l.slice(0, l.lastIndexOf('3s'))))).toEqual([20, 20, 20]);
  });

  it('shows tabs and control characters in error data and names escaped, never raw', () => {
    const lines = renderStatus({ ...node('r', 'FAILED', 'bad\x1b[2Jname'), ex_data: { r: 'col1\tcol2\x07 done' } }, { color: false });
    expect(lines).toContain('   error: col1\\tcol2\\x07 done');
    expect(lines[0]).toBe('Name:       bad\\x1b[2Jname');
    expect(lines.join('\n')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it('cuts long names with an ellipsis so every row fits the terminal, keeping the other columns', () => {
    const long = 'Deploy the whole fleet to every region one availability zone at a time';
    const lines = renderStatus(node('r', 'RUNNING', 'Release', { finish_time: '' }, { a: node('a', 'FAILED', long) }), {
      color: false,
      width: 60,
      taskId: '10',
      bizId: '2',
    });
    for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(60);
    const row = lines.find((l) => l.includes('Deploy'))!;
    expect(row).toMatch(/^ └─✖ Deploy the whole f… {2}a {3}3s$/);
  });

  it('says project in the header when bk_biz_id is read as a project id', () => {
    const answer = node('r', 'FINISHED', 'Release');
    expect(renderStatus(answer, { color: false, taskId: '10', bizId: '2', scope: 'project' })[2]).toBe('Task:       10 (project 2)');
    expect(renderStatus(answer, { color: false, taskId: '10', bizId: '2', scope: 'cmdb_biz' })[2]).toBe('Task:       10 (business 2)');
  });

  it('adds the seconds since the fetch to the durations of nodes still under way, and only to them', () => {
    const answer = node(
      'r',
      'RUNNING',
      'Release',
      { elapsed_time: 282, finish_time: '' },
      {
        done: node('done', 'FINISHED', 'Done'),
        run: node('run', 'RUNNING', 'Run', { elapsed_time: 59, finish_time: '' }),
      },
    );
    const lines = renderStatus(answer, { color: false, extraSeconds: 6 });
    expect(lines[5]).toBe('Duration:   4m48s');
    expect(lines.find((l) => l.includes('Done'))).toMatch(/ 3s$/);
    expect(lines.find((l) => l.includes('Run '))).toMatch(/ 1m5s$/);
  });
});

describe('renderStatus with the automatic retries of failed nodes', () => {
  it('says how many automatic retries a failed node had, and whether one is pending', () => {
    const answer = {
      ...node(
        'r',
        'RUNNING',
        'Release',
        { finish_time: '' },
        {
          a: node('a', 'FAILED', 'Alpha'),
          b: node('b', 'FAILED', 'Beta'),
          c: node('c', 'FAILED', 'Gamma'),
        },
      ),
      failed_node_info: {
        a: { node_id: 'a', auto_retry_times: 1, max_auto_retry_times: 3 },
        b: { node_id: 'b', auto_retry_times: 2, max_auto_retry_times: 2 },
        c: {},
      },
      auto_retry_status: { exist_auto_retry_nodes: true, auto_retry_nodes: ['a'] },
    };
    const lines = renderStatus(answer, { color: false });
    expect(lines.find((l) => l.includes('Alpha'))).toMatch(/ auto retry 1\/3, next pending$/);
    expect(lines.find((l) => l.includes('Beta'))).toMatch(/ auto retry 2\/2$/);
    expect(lines.find((l) => l.includes('Gamma'))).toMatch(/ c +3s$/);
  });
});
