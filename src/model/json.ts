/**
 * Data an orchestrator hands in (ex_data, callback data) is any JSON value. It is checked and
 * copied at the boundary, then frozen, so a caller who mutates its object afterwards cannot
 * reach into a snapshot. Keys are copied as own data properties: "__proto__" stays a key.
 */
import { freeze } from 'immer';
import type { Json } from '../lifecycle/index.js';
import { invalid } from './errors.js';

const MAX_DEPTH = 64;

export function toFrozenJson(value: unknown, field: string): Json {
  const copy = (v: unknown, path: string, depth: number): Json => {
    if (depth > MAX_DEPTH) throw invalid(field, `${path} is nested deeper than ${MAX_DEPTH}`);
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid(field, `${path} is not a finite number`);
      return v;
    }
    if (Array.isArray(v)) return v.map((x, i) => copy(x, `${path}[${i}]`, depth + 1));
    if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x, `${path}.${k}`, depth + 1)]));
    }
    throw invalid(field, `${path} is not a JSON value`);
  };
  return freeze(copy(value, field, 0), true);
}

/**
 * Bytes of a JSON value's text in UTF-8: the unit of the ex_data limit and quota. (A UTF-8 byte
 * count is never below the UTF-16 length a JavaScript string of the same text has, so a bound in
 * bytes bounds what a serializer must hold.) A value too large to serialize at all counts as
 * infinitely large.
 */
export function jsonTextBytes(value: Json): number {
  try {
    return Buffer.byteLength(JSON.stringify(value), 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
