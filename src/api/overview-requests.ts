/**
 * The requests of the overview APIs (get_task_summary, get_task_list, get_task_nodes), read by
 * the same field readers as the other requests (requests.ts), plus the readers only they need:
 * counts for paging, lists of root states, a time zone.
 */
import { STATES, type State } from '../lifecycle/index.js';
import { invalid } from '../model/index.js';
import {
  count,
  flag,
  nodeId,
  optional,
  required,
  scoped,
  taskId,
  text,
  type FlagInput,
  type IdInput,
  type Reader,
  type Scope,
} from './requests.js';

export interface GetTaskSummaryRequest {
  readonly bk_biz_id: IdInput;
  readonly scope?: Scope;
  readonly task_id: IdInput;
  /** any node of the task: its subtree; default the whole task */
  readonly subprocess_id?: string;
}

export interface GetTaskListRequest {
  readonly bk_biz_id: IdInput;
  readonly scope?: Scope;
  /** part of the task name */
  readonly keyword?: string;
  readonly is_started?: FlagInput;
  readonly is_finished?: FlagInput;
  /** only tasks whose root's stored state is one of these (a list, or "RUNNING,FAILED") */
  readonly root_state?: readonly State[] | string;
  /** default 100, at most 200 */
  readonly limit?: number | string;
  readonly offset?: number | string;
  /** answer count -1 instead of counting */
  readonly without_count?: FlagInput;
  /** write start_time and finish_time in this IANA zone; default ISO UTC */
  readonly expected_timezone?: string;
}

export interface GetTaskNodesRequest {
  readonly bk_biz_id: IdInput;
  readonly scope?: Scope;
  readonly task_id: IdInput;
  readonly offset?: number | string;
  /** default 1,000, at most 5,000 */
  readonly limit?: number | string;
}

/** Root states: one, a list, or one comma-separated string of them; none at all is no filter. */
const stateList: Reader<State[]> = (v, field) => {
  const items =
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : Array.isArray(v)
        ? v
        : undefined;
  if (items === undefined || items.some((s) => !(STATES as readonly unknown[]).includes(s))) {
    throw invalid(field, `must list states among ${STATES.join(', ')}`);
  }
  return items as State[];
};

const KEYWORD_MAX = 200;
const keyword: Reader<string> = (v, field) => {
  const k = text(v, field);
  if (k.length > KEYWORD_MAX) throw invalid(field, `must be at most ${KEYWORD_MAX} characters`);
  return k;
};

/** An IANA time zone name, checked by Intl; its canonical spelling (Intl accepts any letter case). */
const timeZone: Reader<string> = (v, field) => {
  const zone = text(v, field);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw invalid(field, `${JSON.stringify(zone.slice(0, 64))} is not an IANA time zone`);
  }
};

/** A flag whose absence means "no filter" rather than false. */
const filter = optional(flag, undefined);

export const TASK_SUMMARY = { ...scoped, task_id: required(taskId), subprocess_id: optional(nodeId, undefined) };

/** bk-sops caps a page of get_task_list at 200 tasks, silently; so does pipestate. */
export const TASK_LIST_MAX = 200;
export const TASK_LIST = {
  ...scoped,
  keyword: optional(keyword, ''),
  is_started: filter,
  is_finished: filter,
  /** pipestate: only tasks whose root's stored state is one of these */
  root_state: optional(stateList, undefined),
  limit: optional(count, 100),
  offset: optional(count, 0),
  without_count: optional(flag, false),
  expected_timezone: optional(timeZone, undefined),
};

/** Nodes per page of get_task_nodes: the default, and the most a request may ask for. */
export const TASK_NODES_DEFAULT = 1_000;
export const TASK_NODES_MAX = 5_000;
export const TASK_NODES = {
  ...scoped,
  task_id: required(taskId),
  offset: optional(count, 0),
  limit: optional(count, TASK_NODES_DEFAULT),
};
