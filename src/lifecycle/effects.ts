/**
 * The effect of each operation on a node record, one pure function per row of SPEC §2's
 * effects table. The table (table.ts) has already said the move is allowed and where it goes;
 * an effect only computes the new record. The store alone commits it and emits events.
 */
import type { Json, NodeRecord } from './record.js';
import type { MachineOperation, State } from './states.js';

export interface EffectInput {
  /** the state the table moves the node to */
  readonly to: State;
  readonly now: number;
  readonly newVersion: () => string;
  readonly rerunLimit: number;
  readonly exData: Json | undefined;
}

type Effect = (r: NodeRecord, e: EffectInput) => NodeRecord;

/** Every field written out, in one order, so that all records share one hidden class. */
const record = (r: NodeRecord, e: EffectInput, changes: Partial<NodeRecord>): NodeRecord =>
  Object.freeze({
    state: e.to,
    version: changes.version ?? r.version,
    loop: changes.loop ?? r.loop,
    retry: changes.retry ?? r.retry,
    auto_retry_times: changes.auto_retry_times ?? r.auto_retry_times,
    skip: changes.skip ?? r.skip,
    error_ignored: changes.error_ignored ?? r.error_ignored,
    started_at: 'started_at' in changes ? changes.started_at! : r.started_at,
    finished_at: 'finished_at' in changes ? changes.finished_at! : r.finished_at,
    state_refresh_at: e.now,
    ex_data: 'ex_data' in changes ? changes.ex_data : r.ex_data,
  });

// A retry starts a new attempt: nothing of the failed one's outcome (its error, whether an
// earlier failure was ignored) carries over. SPEC lists the counters; the flag reset is ours.
const retry = (r: NodeRecord, e: EffectInput, auto: number): NodeRecord =>
  record(r, e, {
    retry: r.retry + 1,
    auto_retry_times: r.auto_retry_times + auto,
    version: e.newVersion(),
    started_at: null,
    finished_at: null,
    ex_data: undefined,
    error_ignored: false,
  });

const fail: Effect = (r, e) => record(r, e, { finished_at: e.now, ex_data: e.exData, error_ignored: e.to === 'FINISHED' });

export const rerunLimitMessage = (limit: number): string => `node execution exceed rerun limit ${limit}`;

export const EFFECTS: Readonly<Record<MachineOperation, Effect>> = {
  start: (r, e) =>
    record(
      r,
      e,
      r.loop === 0 ? { loop: 1, version: e.newVersion(), started_at: e.now, finished_at: null } : { started_at: e.now, finished_at: null },
    ),
  finish: (r, e) => record(r, e, { finished_at: e.now }),
  fail,
  forced_fail: (r, e) => record(r, e, { finished_at: e.now, ex_data: e.exData, error_ignored: false, version: e.newVersion() }),
  pause: (r, e) => record(r, e, {}),
  resume: (r, e) => record(r, e, {}),
  retry: (r, e) => retry(r, e, 0),
  auto_retry: (r, e) => retry(r, e, 1),
  skip: (r, e) => record(r, e, { skip: true, retry: r.retry + 1, version: e.newVersion(), finished_at: e.now }),
  reenter: (r, e) =>
    e.to === 'FAILED'
      ? // The rerun-limit failure is not ignorable: it must not keep an earlier ignored failure's flag.
        record(r, e, { finished_at: e.now, ex_data: rerunLimitMessage(e.rerunLimit), error_ignored: false })
      : record(r, e, {
          loop: r.loop + 1,
          skip: false,
          error_ignored: false,
          version: e.newVersion(),
          started_at: e.now,
          finished_at: null,
          ex_data: undefined,
        }),
  revoke: (r, e) => record(r, e, { finished_at: e.now }),
  revoke_cascade: (r, e) => record(r, e, { finished_at: e.now }),
  callback: (r, e) => record(r, e, {}),
};

/** Retries and re-entry end an attempt: the record they replace goes to the node's history. */
export const endsAttempt = (op: MachineOperation, to: State): boolean =>
  op === 'retry' || op === 'auto_retry' || (op === 'reenter' && to === 'RUNNING');
