/** The tree renderer: a pure function from a get_task_status answer to lines. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, renderStatus } from '../../src/cli/render.js';
import { runs } from '../fc-runs.js';

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
  finish_time: '',
  ...extra,
});

const answer = {
  ...node(
    'root',
    'FAILED',
    'Release',
    { elapsed_time: 75 },
    {
      start: node('start', 'FINISHED', 'Start', { finish_time: '2024-01-01 12:00:03 +0800' }),
      deploy: node(
        'deploy',
        'FAILED',
        '部署到集群',
        {},
        {
          db: node('db', 'FAILED', 'Migrate database', { retry: 1 }),
          rollout: node('rollout', 'RUNNING', 'Rolling update', {}, { health: node('health', 'NODE_SUSPENDED', '', { loop: 3 }) }),
        },
      ),
      notify: node('notify', 'FINISHED', 'Notify', { skip: true, retry: 1 }),
      opt: node('opt', 'FINISHED', 'Optional', { error_ignorable: true }),
    },
  ),
  ex_data: { db: 'migration 0042 timed out\nsecond line' },
};

describe('renderStatus', () => {
  it('draws the header and the tree like argo get, without colours when asked', () => {
    expect(renderStatus(answer, { color: false, taskId: '10', bizId: '2' })).toEqual([
      'Name:       Release',
      'ID:         root',
      'Task:       10 (business 2)',
      'Status:     ✖ FAILED',
      'Started:    2024-01-01 12:00:00 +0800',
      'Finished:   -',
      'Duration:   1m15s',
      '',
      ' STEP                    ID       DURATION  RETRY  LOOP  MESSAGE',
      ' ✖ Release               root     1m15s',
      ' ├─✔ Start               start    3s',
      ' ├─✖ 部署到集群          deploy   3s',
      ' │ ├─✖ Migrate database  db       3s        1',
      ' │ │   error: migration 0042 timed out',
      ' │ │          second line',
      ' │ └─● Rolling update    rollout  3s',
      ' │   └─‖ health          health   3s               3     a node inside is paused',
      ' ├─✔ Notify              notify   3s        1            skipped',
      ' └─✔ Optional            opt      3s                     error ignored',
    ]);
  });

  it('colours each state with its own symbol and colour, and the error data in red', () => {
    const lines = renderStatus(answer, { color: true });
    expect(lines).toContain('Status:     \x1b[31m✖\x1b[0m FAILED');
    expect(lines.find((l) => l.includes('Start '))).toContain('\x1b[32m✔\x1b[0m');
    expect(lines.find((l) => l.includes('Rolling'))).toContain('\x1b[36m●\x1b[0m');
    expect(lines.find((l) => l.includes('error:'))).toContain('\x1b[31merror: migration');
    // colours do not shift the columns
    const plain = renderStatus(answer, { color: false });
    expect(lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))).toEqual(plain);
  });

  it('has a distinct symbol and colour for every state a node can be shown in (a paused one and a node paused inside share one)', () => {
    const expected: [string, string, number][] = [
      ['CREATED', '◌', 90],
      ['READY', '◷', 33],
      ['RUNNING', '●', 36],
      ['SUSPENDED', '‖', 33],
      ['NODE_SUSPENDED', '‖', 33],
      ['FINISHED', '✔', 32],
      ['FAILED', '✖', 31],
      ['REVOKED', '⊘', 35],
      ['SOMETHING_NEW', '?', 37],
    ];
    for (const [state, symbol, colour] of expected) {
      expect(renderStatus(node('r', state, 'x'), { color: false })).toContain(`Status:     ${symbol} ${state}`);
      expect(renderStatus(node('r', state, 'x'), { color: true })).toContain(`Status:     \x1b[${colour}m${symbol}\x1b[0m ${state}`);
    }
  });

  it('columns line up whatever the names (wide characters count two cells)', () => {
    // The test's own widths: the three wide characters it draws take two cells, everything else
    // in a line (printable ASCII, é, ✓, box drawing, state symbols) one.
    const WIDE = new Set(['部', '署', '😀']);
    const displayWidth = (text: string): number => [...text].reduce((w, ch) => w + (WIDE.has(ch) ? 2 : 1), 0);
    const name = fc
      .string({
        maxLength: 12,
        unit: fc.oneof(fc.constantFrom('a', 'Z', ' ', '部', '署', 'é', '✓', '😀'), fc.string({ minLength: 1, maxLength: 1 })),
      })
      .map((n) => n.replace(/[\x00-\x1f\x7f-\x9f]|Ω/g, ''));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.constantFrom('RUNNING', 'FAILED', 'FINISHED')), { minLength: 1, maxLength: 6 }), (kids) => {
        // ids start with Ω, which no name contains: the ID column starts at the last Ω (an unnamed node shows its id as its name too)
        const children = Object.fromEntries(kids.map(([n, state], i) => [`Ω${i}`, node(`Ω${i}`, state, n)]));
        const lines = renderStatus(node('Ωroot', 'RUNNING', 'root', {}, children), { color: false });
        const table = lines.slice(lines.indexOf('') + 1);
        const column = displayWidth(table[0].slice(0, table[0].indexOf('ID')));
        for (const line of table.slice(1)) expect(displayWidth(line.slice(0, line.lastIndexOf('Ω'))), line).toBe(column);
      }),
      { numRuns: runs('cliRender') },
    );
  });

  it('long and many-lined error data is cut, and says where to find all of it', () => {
    const long = { ...node('r', 'FAILED', 'x'), ex_data: { r: `${'y'.repeat(300)}\n${'line\n'.repeat(20)}` } };
    const lines = renderStatus(long, { color: false });
    const errors = lines.filter((l) => l.includes('error:') || l.startsWith('          '));
    expect(errors[0].length).toBeLessThan(200);
    expect(errors[0]).toMatch(/…$/);
    expect(lines.at(-1)).toMatch(/more lines \(--json shows all\)/);
  });

  it('error data that is not a string is shown as JSON; a failed node without data shows no error line', () => {
    const lines = renderStatus({ ...node('r', 'FAILED', 'x'), ex_data: { r: { code: 502 } } }, { color: false });
    expect(lines.at(-1)).toBe('   error: {"code":502}');
    expect(renderStatus({ ...node('r', 'FAILED', 'x'), ex_data: { r: null } }, { color: false }).at(-1)).toBe(' ✖ x   r   3s');
  });

  it("a malformed answer: no status unless it names a node id; with one, a header and the node's row", () => {
    const NO_STATUS = ['(the answer holds no status)'];
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const lines = renderStatus(v, { color: false });
        const id = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>).id : undefined;
        if (typeof id !== 'string') {
          expect(lines).toEqual(NO_STATUS);
          return;
        }
        expect(lines[1]).toBe(`ID:         ${id}`);
        expect(lines[6]).toBe('');
        expect(lines[7]).toMatch(/^ STEP +ID +DURATION +RETRY +LOOP +MESSAGE$/);
        expect(lines[8]).toMatch(/^ [◌◷●‖✔✖⊘?] /);
        for (const line of lines) expect(typeof line).toBe('string');
      }),
    );
    // the same for answers that are shaped like one but wrong in every field
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), (id, junk) => {
        const lines = renderStatus({ ...junk, id, children: junk }, { color: false });
        expect(lines[1]).toBe(`ID:         ${id}`);
        expect(lines[7]).toMatch(/^ STEP +ID +DURATION +RETRY +LOOP +MESSAGE$/);
      }),
    );
    for (const v of [null, 5, 'root', [], [{ id: 'r' }], { id: 5 }, { name: 'x' }])
      expect(renderStatus(v, { color: false })).toEqual(NO_STATUS);
    expect(renderStatus({ id: 'r' }, { color: false })).toEqual([
      'Name:       r',
      'ID:         r',
      'Status:     ? ',
      'Started:    -',
      'Finished:   -',
      'Duration:   -',
      '',
      ' STEP  ID  DURATION  RETRY  LOOP  MESSAGE',
      ' ? r   r',
    ]);
  });

  it('formats durations compactly', () => {
    expect([0, 5, 59, 60, 75, 3599, 3600, 3723, -1].map(formatDuration)).toEqual([
      '0s',
      '5s',
      '59s',
      '1m0s',
      '1m15s',
      '59m59s',
      '1h0m0s',
      '1h2m3s',
      '0s',
    ]);
  });
});
