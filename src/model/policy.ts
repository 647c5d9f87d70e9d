/**
 * The policies a node definition may carry, as in bk-sops' node settings: an automatic retry
 * after a failure (`auto_retry`) and a time limit on running (`timeout`). The engine's policy
 * scheduler (src/policy) performs them; the definition only holds them, checked and frozen.
 */
import { withArticle } from './errors.js';

export interface AutoRetryPolicy {
  /** automatic retries over the node's life (bk-sops' max_retry_times) */
  readonly max_times: number;
  /** seconds from the failure to the retry */
  readonly interval_seconds: number;
}

export const TIMEOUT_ACTIONS = ['forced_fail', 'forced_fail_and_skip'] as const;
export type TimeoutAction = (typeof TIMEOUT_ACTIONS)[number];

export interface TimeoutPolicy {
  /** seconds a node may stay RUNNING, counted from its start */
  readonly seconds: number;
  readonly action: TimeoutAction;
}

/** A node's policies; a node without any has none at all (no entry). */
export interface NodePolicy {
  readonly autoRetry?: AutoRetryPolicy;
  readonly timeout?: TimeoutPolicy;
}

/** Bounds of the policy numbers: whole seconds and counts, large enough for any real use. */
export const POLICY_LIMITS = {
  maxTimes: 1_000,
  intervalSeconds: 86_400,
  timeoutSeconds: 31_536_000,
} as const;

/** Reports a bad policy field: `(field, reason) => never`, given by the definition compiler. */
export type PolicyFail = (field: string, reason: string) => never;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function wholeNumber(v: unknown, field: string, min: number, max: number, fail: PolicyFail): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(field, `must be a whole number from ${min} to ${max}`);
  return v as number;
}

function onlyKeys(v: Record<string, unknown>, keys: readonly string[], field: string, fail: PolicyFail): void {
  for (const key of Object.keys(v)) if (!keys.includes(key)) fail(`${field}.${key}`, `is not a field of ${field} (${keys.join(', ')})`);
}

function autoRetry(v: unknown, fail: PolicyFail): AutoRetryPolicy {
  if (!isRecord(v)) fail('auto_retry', 'must be an object {max_times, interval_seconds}');
  const o = v as Record<string, unknown>;
  onlyKeys(o, ['max_times', 'interval_seconds'], 'auto_retry', fail);
  return Object.freeze({
    max_times: wholeNumber(o.max_times, 'auto_retry.max_times', 1, POLICY_LIMITS.maxTimes, fail),
    interval_seconds: wholeNumber(o.interval_seconds ?? 0, 'auto_retry.interval_seconds', 0, POLICY_LIMITS.intervalSeconds, fail),
  });
}

function timeout(v: unknown, fail: PolicyFail): TimeoutPolicy {
  if (!isRecord(v)) fail('timeout', 'must be an object {seconds, action}');
  const o = v as Record<string, unknown>;
  onlyKeys(o, ['seconds', 'action'], 'timeout', fail);
  const action = o.action ?? 'forced_fail';
  if (!(TIMEOUT_ACTIONS as readonly unknown[]).includes(action)) fail('timeout.action', `must be one of ${TIMEOUT_ACTIONS.join(', ')}`);
  return Object.freeze({
    seconds: wholeNumber(o.seconds, 'timeout.seconds', 1, POLICY_LIMITS.timeoutSeconds, fail),
    action: action as TimeoutAction,
  });
}

/**
 * The policies of one node definition, or undefined when it has none. Only leaves carry them:
 * a timeout ends in a forced_fail, which only a leaf takes, and bk-sops sets both on activities;
 * a container fails and recovers through its children.
 */
export function readPolicy(node: Readonly<Record<string, unknown>>, leaf: boolean, kind: string, fail: PolicyFail): NodePolicy | undefined {
  const hasRetry = node.auto_retry !== undefined && node.auto_retry !== null;
  const hasTimeout = node.timeout !== undefined && node.timeout !== null;
  if (!hasRetry && !hasTimeout) return undefined;
  if (!leaf) fail(hasRetry ? 'auto_retry' : 'timeout', `only a leaf (activity, event or gateway) carries it, not ${withArticle(kind)}`);
  return Object.freeze({
    ...(hasRetry ? { autoRetry: autoRetry(node.auto_retry, fail) } : {}),
    ...(hasTimeout ? { timeout: timeout(node.timeout, fail) } : {}),
  });
}
