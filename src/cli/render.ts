/**
 * A get_task_status answer drawn as a tree, the way `argo get` draws a workflow: a header, then
 * one row per node with a symbol and colour for its state, its name, id, elapsed time, retry and
 * loop counts, and the error data under each failed node. Pure: answer in, lines out.
 */
import { displayWidth, escapeControls, padEnd, truncate } from './text-width.js';

export interface StateStyle {
  readonly symbol: string;
  /** ANSI SGR colour code */
  readonly color: number;
}

/** One symbol and colour per state (SPEC §3.2 states, plus READY and the derived NODE_SUSPENDED). */
export const STATE_STYLES: ReadonlyMap<string, StateStyle> = new Map([
  ['CREATED', { symbol: '◌', color: 90 }],
  ['READY', { symbol: '◷', color: 33 }],
  ['RUNNING', { symbol: '●', color: 36 }],
  ['SUSPENDED', { symbol: '‖', color: 33 }],
  ['NODE_SUSPENDED', { symbol: '‖', color: 33 }],
  ['FINISHED', { symbol: '✔', color: 32 }],
  ['FAILED', { symbol: '✖', color: 31 }],
  ['REVOKED', { symbol: '⊘', color: 35 }],
]);
const UNKNOWN_STYLE: StateStyle = { symbol: '?', color: 37 };
const RED = 31;
const DIM = 90;

export interface RenderOptions {
  readonly color: boolean;
  /** for the header */
  readonly taskId?: string;
  readonly bizId?: string;
  /** how bizId was read: a CMDB business (the default) or a project id */
  readonly scope?: 'cmdb_biz' | 'project';
  /** terminal columns: long names are cut with an ellipsis so that every row fits */
  readonly width?: number;
  /**
   * seconds since the answer was fetched, added to the duration of every node still under way
   * (started, not finished), so a watch can redraw running durations between changes
   */
  readonly extraSeconds?: number;
  /** longest error line, in cells; default 160 */
  readonly errorWidth?: number;
  /** error lines shown per node; default 8 */
  readonly errorLines?: number;
}

export interface StatusNode {
  readonly id: string;
  readonly state: string;
  readonly name: string;
  readonly retry: number;
  readonly loop: number;
  readonly skip: boolean;
  readonly error_ignorable: boolean;
  readonly elapsed_time: number;
  readonly start_time: string;
  readonly finish_time: string;
  readonly children: readonly StatusNode[];
}

const isObject = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Reads an answer defensively: it came over the network, and a bad one must not crash the CLI. */
export function readNode(v: unknown): StatusNode | undefined {
  if (!isObject(v) || typeof v.id !== 'string') return undefined;
  const children = isObject(v.children)
    ? Object.values(v.children)
        .map(readNode)
        .filter((c): c is StatusNode => c !== undefined)
    : [];
  return {
    id: v.id,
    state: str(v.state),
    name: str(v.name),
    retry: num(v.retry),
    loop: num(v.loop),
    skip: v.skip === true,
    error_ignorable: v.error_ignorable === true,
    elapsed_time: num(v.elapsed_time),
    start_time: str(v.start_time),
    finish_time: str(v.finish_time),
    children,
  };
}

/** 75 → "1m15s", 3723 → "1h2m3s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${m}m${rest}s`;
  if (m > 0) return `${m}m${rest}s`;
  return `${rest}s`;
}

interface Row {
  readonly step: string;
  readonly id: string;
  readonly duration: string;
  readonly retry: string;
  readonly loop: string;
  readonly message: string;
  /** lines under the row (error data), already prefixed */
  readonly notes: readonly string[];
}

type Paint = (code: number, text: string) => string;

const styleOf = (state: string): StateStyle => STATE_STYLES.get(state) ?? UNKNOWN_STYLE;

const COLUMNS: readonly { readonly title: string; readonly cell: (r: Row) => string }[] = [
  { title: ' STEP', cell: (r) => r.step },
  { title: 'ID', cell: (r) => r.id },
  { title: 'DURATION', cell: (r) => r.duration },
  { title: 'RETRY', cell: (r) => r.retry },
  { title: 'LOOP', cell: (r) => r.loop },
  { title: 'MESSAGE', cell: (r) => r.message },
];

export function renderStatus(answer: unknown, options: RenderOptions): string[] {
  const root = readNode(answer);
  if (!root) return ['(the answer holds no status)'];
  const paint: Paint = (code, text) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const errors = new ErrorNotes(isObject(answer) && isObject(answer.ex_data) ? answer.ex_data : {}, options, paint);
  const duration = (n: StatusNode): string => formatDuration(n.elapsed_time + (underWay(n) ? (options.extraSeconds ?? 0) : 0));
  const rows: Row[] = [];
  collectRows(root, ' ', ' ', rows, { errors, paint, duration, retries: autoRetries(answer) });
  const lines = [...header(root, options, paint, duration), '', ...table(rows, options.width)];
  // Errors of nodes the tree does not show (none in a well-formed answer) are not dropped.
  for (const id of errors.remaining()) lines.push(...errors.take(id, ` ${escapeControls(id)}: `));
  const width = options.width;
  return width === undefined ? lines : lines.map((l) => truncate(l, width));
}

/** Started and not finished: its elapsed time grows with the clock. */
const underWay = (n: StatusNode): boolean => n.start_time !== '' && n.finish_time === '';

/** Server data, safe to draw: control characters escaped. */
const safe = escapeControls;

const SCOPE_WORD = { cmdb_biz: 'business', project: 'project' } as const;

function header(root: StatusNode, options: RenderOptions, paint: Paint, duration: (n: StatusNode) => string): string[] {
  const style = styleOf(root.state);
  const of = options.bizId !== undefined ? ` (${SCOPE_WORD[options.scope ?? 'cmdb_biz']} ${options.bizId})` : '';
  const task = options.taskId === undefined ? [] : [['Task:', `${options.taskId}${of}`]];
  const fields = [
    ['Name:', safe(root.name === '' ? root.id : root.name)],
    ['ID:', safe(root.id)],
    ...task,
    ['Status:', `${paint(style.color, style.symbol)} ${safe(root.state)}`],
    ['Started:', root.start_time === '' ? '-' : safe(root.start_time)],
    ['Finished:', root.finish_time === '' ? '-' : safe(root.finish_time)],
    ['Duration:', root.start_time === '' ? '-' : duration(root)],
  ];
  return fields.map(([k, v]) => `${k.padEnd(12)}${v}`);
}

/**
 * What the answer's failed_node_info and auto_retry_status say about automatic retries, per
 * node: `auto retry 1/3, next pending` (absent from answers that were not asked for them).
 */
function autoRetries(answer: unknown): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (!isObject(answer) || !isObject(answer.failed_node_info)) return out;
  const status = answer.auto_retry_status;
  const waiting = new Set(isObject(status) && Array.isArray(status.auto_retry_nodes) ? status.auto_retry_nodes : []);
  for (const [id, info] of Object.entries(answer.failed_node_info)) {
    if (!isObject(info) || typeof info.max_auto_retry_times !== 'number') continue;
    out.set(id, `auto retry ${num(info.auto_retry_times)}/${info.max_auto_retry_times}${waiting.has(id) ? ', next pending' : ''}`);
  }
  return out;
}

interface Drawing {
  readonly errors: ErrorNotes;
  readonly paint: Paint;
  readonly duration: (n: StatusNode) => string;
  /** by node id, from autoRetries */
  readonly retries: ReadonlyMap<string, string>;
}

/** Preorder rows; `branch` draws this node's connector, `continuation` the lines below it. */
function collectRows(node: StatusNode, branch: string, continuation: string, rows: Row[], d: Drawing): void {
  const { errors, paint, duration } = d;
  const style = styleOf(node.state);
  const message = [
    node.skip ? 'skipped' : '',
    node.error_ignorable ? 'error ignored' : '',
    node.state === 'NODE_SUSPENDED' ? 'a node inside is paused' : '',
    d.retries.get(node.id) ?? '',
  ]
    .filter((m) => m !== '')
    .join(', ');
  rows.push({
    step: `${branch}${paint(style.color, style.symbol)} ${node.name === '' ? paint(DIM, safe(node.id)) : safe(node.name)}`,
    id: safe(node.id),
    duration: node.start_time === '' ? '' : duration(node),
    retry: node.retry > 0 ? String(node.retry) : '',
    loop: node.loop > 1 ? String(node.loop) : '',
    message,
    notes: errors.take(node.id, `${continuation}${node.children.length > 0 ? '│ ' : '  '}`),
  });
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1;
    collectRows(child, `${continuation}${last ? '└─' : '├─'}`, `${continuation}${last ? '  ' : '│ '}`, rows, d);
  });
}

/** The STEP column is never cut narrower than this, however narrow the terminal. */
const MIN_STEP_WIDTH = 16;

function table(rows: readonly Row[], width: number | undefined): string[] {
  const widths = COLUMNS.map((c) => Math.max(displayWidth(c.title), ...rows.map((r) => displayWidth(c.cell(r)))));
  // Too wide for the terminal: the names give way first (the columns after them stay whole).
  const natural = widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  if (width !== undefined && natural > width) widths[0] = Math.max(MIN_STEP_WIDTH, widths[0] - (natural - width));
  const fit = (cell: string, i: number): string => (i === 0 ? truncate(cell, widths[0]) : cell);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : padEnd(fit(cell, i), widths[i])))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS.map((c) => c.title)), ...rows.flatMap((r) => [line(COLUMNS.map((c) => c.cell(r))), ...r.notes])];
}

/** The ex_data of the answer, handed out once per node as indented red lines. */
class ErrorNotes {
  private readonly byNode: Map<string, unknown>;

  constructor(
    exData: Readonly<Record<string, unknown>>,
    private readonly options: RenderOptions,
    private readonly paint: Paint,
  ) {
    this.byNode = new Map(Object.entries(exData));
  }

  take(id: string, indent: string): string[] {
    if (!this.byNode.has(id)) return [];
    const value = this.byNode.get(id);
    this.byNode.delete(id);
    // A failure without error data says nothing more than its ✖ does.
    if (value === null || value === undefined) return [];
    const lines = (typeof value === 'string' ? value : JSON.stringify(value)).split(/\r\n|\r|\n/);
    const max = this.options.errorLines ?? 8;
    const shown = lines
      .slice(0, max)
      .map((line, i) => `${i === 0 ? 'error: ' : '       '}${truncate(escapeControls(line), this.options.errorWidth ?? 160)}`);
    if (lines.length > max) shown.push(`       … ${lines.length - max} more lines (--json shows all)`);
    return shown.map((l) => `${indent}${this.paint(RED, l)}`);
  }

  remaining(): string[] {
    return [...this.byNode.keys()];
  }
}
