/**
 * Task ids. bk-sops' task ids are database integers and it answers them as JSON numbers
 * (`"id": 30000105`), so a task id here is a positive integer that a JSON number holds exactly:
 * 1 to 2^53−1. A request may give one as a number or as a string of digits (query strings have
 * nothing else); inside the engine it is the canonical decimal string ("010" and 10 are task "10"),
 * the form the store registers (isTaskId).
 */
import { MAX_TASK_ID } from './definition.js';

/** What a caller is told when a task id breaks the rules. */
export const TASK_ID_RULE = `a task id: a positive integer up to ${MAX_TASK_ID}, as a number or a string of digits`;

// 16 digits reach 2^53−1; longer strings are refused before Number() rounds them.
const DIGITS = /^[0-9]{1,16}$/;

/** The canonical digit string of a task id, or undefined when `v` is not one. */
export function taskIdOf(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 1 ? String(v) : undefined;
  if (typeof v !== 'string' || !DIGITS.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 && n <= MAX_TASK_ID ? String(n) : undefined;
}
