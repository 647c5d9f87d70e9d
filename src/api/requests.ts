/**
 * The requests of SPEC §3.1 and §4, checked at the boundary. Each request is described by a
 * schema: field name → reader. A reader turns whatever arrived (JSON, or the strings of a query
 * string) into the typed value, or throws a 3540000 PipestateError naming the field. Only own
 * properties are read, so a polluted prototype cannot supply a field; fields not in the schema
 * (bk_app_code, bk_token, …) are ignored. An optional field that is absent, `null` or `""` (an
 * empty query parameter) takes its default.
 */
import type { Json } from '../lifecycle/index.js';
import { DIGITS_PATTERN, ID_PATTERN, TASK_ID_RULE, invalid, taskIdOf, toFrozenJson } from '../model/index.js';

export type Scope = 'cmdb_biz' | 'project';
export type TaskAction = 'pause' | 'resume' | 'revoke';
export type NodeAction = 'retry' | 'skip' | 'pause' | 'resume' | 'forced_fail' | 'callback';

/**
 * Ids: strings of digits; JSON clients often send numbers, and non-negative integers are accepted.
 * Task ids are positive integers up to 2^53−1, as numbers or digit strings (model/task-id.ts).
 */
export type IdInput = string | number;
/** Counts: non-negative JSON integers, or strings of digits (query strings). */
export type CountInput = number | string;
/**
 * Booleans: a JSON boolean, 1 or 0, or the text `true`, `false`, `1`, `0` in any letter case
 * (Python's `requests` sends `True` and `False`). Anything else is refused, naming the field.
 */
export type FlagInput = boolean | 0 | 1 | string;

interface ScopedInput {
  readonly bk_biz_id: IdInput;
  /** default cmdb_biz */
  readonly scope?: Scope;
}
export interface GetTaskStatusRequest extends ScopedInput {
  readonly task_id: IdInput;
  readonly subprocess_id?: string;
  readonly with_ex_data?: FlagInput;
  /** add `failed_node_info`: each failed node, with its auto retry counts where it has a policy */
  readonly with_failed_node_info?: FlagInput;
  /** add `auto_retry_status`: the failed nodes the engine will still retry */
  readonly with_auto_retry_status?: FlagInput;
}
export interface GetTasksStatusRequest extends ScopedInput {
  /** ids, or one comma-separated string of them */
  readonly task_id_list: readonly IdInput[] | string;
  readonly include_children_status?: FlagInput;
}
export interface GetTaskNodeDetailRequest extends ScopedInput {
  readonly task_id: IdInput;
  readonly node_id: string;
  readonly with_ex_data?: FlagInput;
  /** how many ended attempts to answer: default 100, at most 1,000 (the store's limits) */
  readonly histories_limit?: CountInput;
  /** how many of the newest ended attempts to skip first; default 0 */
  readonly histories_offset?: CountInput;
}
export interface OperateTaskRequest extends ScopedInput {
  readonly task_id: IdInput;
  readonly action: TaskAction;
}
export interface OperateNodeRequest extends ScopedInput {
  readonly task_id: IdInput;
  readonly node_id: string;
  readonly action: NodeAction;
  /** refuse unless the node is at this version */
  readonly version?: string;
  /** forced_fail: the error data */
  readonly ex_data?: Json;
  /** callback: what the orchestrator receives */
  readonly data?: Json;
}

export type Reader<T> = (value: unknown, field: string) => T;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const required =
  <T>(read: Reader<T>): Reader<T> =>
  (v, field) => {
    if (v === undefined || v === null) throw invalid(field, 'is required');
    return read(v, field);
  };
export const optional =
  <T, D>(read: Reader<T>, fallback: D): Reader<T | D> =>
  (v, field) =>
    absent(v) ? fallback : read(v, field);

const id: Reader<string> = (v, field) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && DIGITS_PATTERN.test(v)) return v;
  throw invalid(field, 'must be a string of 1..32 digits');
};

const COUNT_PATTERN = /^[0-9]{1,16}$/;
export const count: Reader<number> = (v, field) => {
  const n = typeof v === 'string' && COUNT_PATTERN.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  throw invalid(field, 'must be a non-negative integer');
};

export const taskId: Reader<string> = (v, field) => {
  const id = taskIdOf(v);
  if (id === undefined) throw invalid(field, `must be ${TASK_ID_RULE}`);
  return id;
};

export const nodeId: Reader<string> = (v, field) => {
  if (typeof v === 'string' && ID_PATTERN.test(v)) return v;
  throw invalid(field, 'must be a node id: 1..64 characters of [A-Za-z0-9_-]');
};

const FLAGS: ReadonlyMap<unknown, boolean> = new Map<unknown, boolean>([
  [true, true],
  [false, false],
  [1, true],
  [0, false],
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);
export const flag: Reader<boolean> = (v, field) => {
  const b = FLAGS.get(typeof v === 'string' ? v.toLowerCase() : v);
  if (b === undefined) throw invalid(field, 'must be true or false (or 1 or 0), in any letter case');
  return b;
};

const oneOf =
  <T extends string>(values: readonly T[]): Reader<T> =>
  (v, field) => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    throw invalid(field, `must be one of ${values.join(', ')}`);
  };

export const text: Reader<string> = (v, field) => {
  if (typeof v === 'string') return v;
  throw invalid(field, 'must be a string');
};

const json: Reader<Json> = (v, field) => toFrozenJson(v, field);

/** An array of ids, or one comma-separated string of them (a query string's only way). */
const idList: Reader<string[]> = (v, field) => {
  const items: readonly unknown[] | undefined =
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : Array.isArray(v)
        ? v
        : undefined;
  if (items === undefined) throw invalid(field, 'must be a list of task ids');
  return items.map((item, i) => taskId(item, `${field}[${i}]`));
};

const SCOPES: readonly Scope[] = ['cmdb_biz', 'project'];
export const scoped = { bk_biz_id: required(id), scope: optional(oneOf(SCOPES), 'cmdb_biz' as Scope) };

export const TASK_STATUS = {
  ...scoped,
  task_id: required(taskId),
  subprocess_id: optional(nodeId, undefined),
  with_ex_data: optional(flag, false),
  with_failed_node_info: optional(flag, false),
  with_auto_retry_status: optional(flag, false),
};

export const TASKS_STATUS = {
  ...scoped,
  task_id_list: required(idList),
  include_children_status: optional(flag, false),
};

export const NODE_DETAIL = {
  ...scoped,
  task_id: required(taskId),
  node_id: required(nodeId),
  with_ex_data: optional(flag, false),
  // the defaults and the maximum are the store's limits, applied where they are known
  histories_limit: optional(count, undefined),
  histories_offset: optional(count, 0),
};

export const TASK_ACTIONS: readonly TaskAction[] = ['pause', 'resume', 'revoke'];
export const OPERATE_TASK = { ...scoped, task_id: required(taskId), action: required(oneOf(TASK_ACTIONS)) };

export const NODE_ACTIONS: readonly NodeAction[] = ['retry', 'skip', 'pause', 'resume', 'forced_fail', 'callback'];
export const OPERATE_NODE = {
  ...scoped,
  task_id: required(taskId),
  node_id: required(nodeId),
  action: required(oneOf(NODE_ACTIONS)),
  // "" is a real version (a node that never started), so only a missing version skips the guard.
  version: (v: unknown, field: string) => (v === undefined || v === null ? undefined : text(v, field)),
  // JSON values: only `undefined` means absent (null and "" are data).
  ex_data: (v: unknown, field: string) => (v === undefined ? undefined : json(v, field)),
  data: (v: unknown, field: string) => (v === undefined ? undefined : json(v, field)),
};

type Schema = Readonly<Record<string, Reader<unknown>>>;
export type Parsed<S extends Schema> = { readonly [K in keyof S]: ReturnType<S[K]> };

/** Reads every field of `schema` from `request`, in schema order; the first bad one throws. */
export function parseRequest<S extends Schema>(schema: S, request: unknown): Parsed<S> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw invalid('request', 'must be an object');
  }
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(schema)) {
    const value = Object.hasOwn(request, field) ? (request as Record<string, unknown>)[field] : undefined;
    out[field] = schema[field](value, field);
  }
  return out as Parsed<S>;
}
