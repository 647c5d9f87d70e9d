/**
 * What a section hands back, and how it is printed: markdown tables (readable in a terminal,
 * pasteable into the README), checks against the issue's targets, and notes.
 */
export interface Table {
  readonly caption: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export interface Check {
  readonly what: string;
  /** the measured figure, as printed */
  readonly measured: string;
  /** the target, as printed */
  readonly target: string;
  readonly pass: boolean;
  /** how far off, when missed: `1.4× over` */
  readonly miss?: string;
}

export interface SectionResult {
  readonly section: string;
  readonly title: string;
  readonly tables: readonly Table[];
  readonly checks: readonly Check[];
  readonly notes: readonly string[];
  /** every figure, unformatted, for results.json */
  readonly raw: unknown;
}

export function markdown(t: Table): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [`**${t.caption}**`, '', line(t.header), line(t.header.map((_, i) => (i === 0 ? '---' : '---:'))), ...t.rows.map(line)].join('\n');
}

export function checksTable(checks: readonly Check[]): Table {
  return {
    caption: 'Targets',
    header: ['target', 'measured', 'goal', 'result'],
    rows: checks.map((c) => [c.what, c.measured, c.target, c.pass ? 'PASS' : `MISS${c.miss ? ` (${c.miss})` : ''}`]),
  };
}

export function sectionMarkdown(r: SectionResult): string {
  const parts = [`### ${r.title}`, ...r.tables.map(markdown)];
  if (r.checks.length > 0) parts.push(markdown(checksTable(r.checks)));
  if (r.notes.length > 0) parts.push(r.notes.map((n) => `- ${n}`).join('\n'));
  return parts.join('\n\n');
}

/** 87 ns, 1.24 µs, 3.5 ms, 1.20 s */
export function ns(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x < 1e3) return `${x.toFixed(x < 10 ? 1 : 0)} ns`;
  if (x < 1e6) return `${(x / 1e3).toFixed(x < 1e4 ? 2 : 1)} µs`;
  if (x < 1e9) return `${(x / 1e6).toFixed(x < 1e7 ? 2 : 1)} ms`;
  return `${(x / 1e9).toFixed(2)} s`;
}

export const ratio = (x: number): string => {
  if (!Number.isFinite(x)) return '—';
  if (x < 10) return `${x.toFixed(2)}×`;
  return `${x < 1e4 ? x.toFixed(0) : Math.round(x).toLocaleString('en-US')}×`;
};

export function bytes(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a < 1024) return `${x.toFixed(0)} B`;
  if (a < 1024 ** 2) return `${(x / 1024).toFixed(1)} KiB`;
  if (a < 1024 ** 3) return `${(x / 1024 ** 2).toFixed(1)} MiB`;
  return `${(x / 1024 ** 3).toFixed(2)} GiB`;
}

/** A check that a figure stays at or under a limit (or at or over, for `atLeast`). */
export function check(what: string, value: number, limit: number, fmt: (x: number) => string, atLeast = false): Check {
  const pass = atLeast ? value >= limit : value <= limit;
  return {
    what,
    measured: fmt(value),
    target: `${atLeast ? '≥' : '≤'} ${fmt(limit)}`,
    pass,
    ...(pass ? {} : { miss: atLeast ? `${ratio(limit / value)} short` : `${ratio(value / limit)} over` }),
  };
}

/** Progress on stderr: stdout stays for the tables. */
export const progress = (msg: string): void => {
  process.stderr.write(`  · ${msg}\n`);
};
