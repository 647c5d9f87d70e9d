/** The runtime record of one node (SPEC §1). Records are immutable: every change is a new one. */
import type { State } from './states.js';

/** Any JSON value: what an orchestrator reports as a node's error or output data. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export interface NodeRecord {
  readonly state: State;
  /** 32 lowercase hex chars; "" before the first start */
  readonly version: string;
  /** times entered; 0 before the first start */
  readonly loop: number;
  /** retries plus skips */
  readonly retry: number;
  /** retries the engine made under the node's auto_retry policy (also counted in `retry`) */
  readonly auto_retry_times: number;
  readonly skip: boolean;
  /** the node's failure was ignored because it is defined error_ignorable */
  readonly error_ignored: boolean;
  /** ms since the epoch, null when unset */
  readonly started_at: number | null;
  readonly finished_at: number | null;
  /** ms; the task's created_at until the node first changes */
  readonly state_refresh_at: number;
  /** error or output data; undefined when there is none */
  readonly ex_data: Json | undefined;
}

/** The record every node starts with. One frozen object per task serves all its CREATED nodes. */
export const initialRecord = (createdAt: number): NodeRecord =>
  Object.freeze({
    state: 'CREATED',
    version: '',
    loop: 0,
    retry: 0,
    auto_retry_times: 0,
    skip: false,
    error_ignored: false,
    started_at: null,
    finished_at: null,
    state_refresh_at: createdAt,
    ex_data: undefined,
  });
