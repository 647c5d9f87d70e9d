/**
 * The store's size limits: those of a definition (model), plus those that keep one node's
 * answer bounded: the size of one ex_data, how many ended attempts a node keeps, and how many of
 * them one get_task_node_detail answer may carry. docs/service-limits.md lists them with their
 * reasons.
 */
import { DEFAULT_LIMITS, invalid, type DefinitionLimits } from '../model/index.js';

export interface StoreLimits extends DefinitionLimits {
  /** bytes of the JSON text (UTF-8) of one ex_data a node is given; more is refused */
  readonly maxNodeExDataBytes: number;
  /** ended attempts a node keeps; past it the oldest is dropped (and counted) */
  readonly maxNodeHistories: number;
  /** histories one node detail answers when the request does not say */
  readonly historiesDefaultLimit: number;
  /** the most histories one node detail answers */
  readonly historiesMaxLimit: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = Object.freeze({
  ...DEFAULT_LIMITS,
  maxNodeExDataBytes: 64 * 1024,
  maxNodeHistories: 1_000,
  historiesDefaultLimit: 100,
  historiesMaxLimit: 1_000,
});

/**
 * An upper bound of the JSON text of one history entry without its ex_data: the keys, a state,
 * a version, counters and elapsed seconds of at most 16 digits, two 25-character times, commas.
 * (test/query/node-detail-bounds.test.ts writes the largest entry there can be and checks it.)
 */
export const HISTORY_ENTRY_TEXT_BYTES = 512;

/**
 * What the histories of one answer may add up to at most: half of the longest string V8 makes
 * (2^29 - 24 UTF-16 units, so JSON.stringify of a longer answer throws), the other half left
 * for the node's own status.
 */
export const HISTORIES_ANSWER_BUDGET = 256 * 1024 * 1024;

/** A configured count: refused (3540000, naming the field) unless a positive safe integer. */
export const positiveInteger = (v: unknown, field: string): number => {
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw invalid(field, 'must be a positive integer');
  return v as number;
};

/** The limits over the defaults, checked: positive integers, and a page of histories that fits the budget. */
export function storeLimits(partial: Partial<StoreLimits> = {}): StoreLimits {
  if (typeof partial !== 'object' || partial === null) throw invalid('limits', 'must be an object');
  for (const key of Object.keys(partial)) {
    if (!Object.hasOwn(DEFAULT_STORE_LIMITS, key))
      throw invalid(`limits.${key}`, `is not a limit (limits are ${Object.keys(DEFAULT_STORE_LIMITS).join(', ')})`);
  }
  const limits: StoreLimits = { ...DEFAULT_STORE_LIMITS, ...partial };
  for (const key of Object.keys(DEFAULT_STORE_LIMITS) as (keyof StoreLimits)[]) positiveInteger(limits[key], `limits.${key}`);
  if (limits.historiesDefaultLimit > limits.historiesMaxLimit) {
    throw invalid('limits.historiesDefaultLimit', `must be at most limits.historiesMaxLimit (${limits.historiesMaxLimit})`);
  }
  const page = limits.historiesMaxLimit * (limits.maxNodeExDataBytes + HISTORY_ENTRY_TEXT_BYTES);
  if (page > HISTORIES_ANSWER_BUDGET) {
    throw invalid(
      'limits.historiesMaxLimit',
      `a page of ${limits.historiesMaxLimit} histories of up to ${limits.maxNodeExDataBytes} bytes of ex_data ` +
        `could be ${page} bytes, over the ${HISTORIES_ANSWER_BUDGET} one answer may hold: lower it or limits.maxNodeExDataBytes`,
    );
  }
  return Object.freeze(limits);
}
