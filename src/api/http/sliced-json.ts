/**
 * JSON text in pieces: exactly the characters `JSON.stringify(value)` gives, handed out a piece at
 * a time, so that a large answer (a 10^5-node status tree is tens of megabytes) is serialized
 * between other requests and written only as fast as the socket takes it, and never has to exist
 * as one string (V8 cannot make a string past ~512 MiB; JSON.stringify throws there).
 *
 * The walk keeps its own stack (depth is the data's to choose, not the call stack's) and hands
 * every small enough part of the value (at most NATIVE_BUDGET entries all the way down) to
 * JSON.stringify itself, which is several times faster than any JavaScript serializer: in a
 * status answer only the few containers near the root are walked key by key. Strings longer than
 * a piece are cut between code points. Each step of work is thus bounded by the size of the text
 * it produces.
 *
 * What JSON.stringify does, this does: toJSON is called with the key, undefined, functions and
 * symbols are left out of objects and written `null` in arrays, non-finite numbers are `null`,
 * BigInt and cycles throw a TypeError. Replacers and indentation are not offered.
 */

/** Characters per piece: large enough that a write costs little per byte, small enough to pace. */
export const PIECE_CHARS = 64 * 1024;

/**
 * A container goes to JSON.stringify whole when it holds at most this many entries, counted all
 * the way down (a string counts one per 64 characters): about 50 KB of text, 50–100 µs.
 */
export const NATIVE_BUDGET = 2048;

export interface PieceOptions {
  /** default PIECE_CHARS */
  readonly pieceChars?: number;
  /** default NATIVE_BUDGET; 0 walks every container (tests use it to exercise the walk) */
  readonly nativeBudget?: number;
}
/** Key/value steps between two pieces even when they write nothing (skipped keys). */
const STEPS_PER_PIECE = 4096;

const OBJECT = 0;
const ARRAY = 1;
const STRING = 2;

interface ObjectFrame {
  readonly kind: typeof OBJECT;
  readonly value: Readonly<Record<string, unknown>>;
  readonly keys: readonly string[];
  next: number;
  wrote: boolean;
}
interface ArrayFrame {
  readonly kind: typeof ARRAY;
  readonly value: readonly unknown[];
  next: number;
}
interface StringFrame {
  readonly kind: typeof STRING;
  readonly value: string;
  next: number;
}
type Frame = ObjectFrame | ArrayFrame | StringFrame;

/** JSON.stringify's SerializeJSONProperty, first step: an object's (or BigInt's) toJSON, called with the key. */
function viaToJson(value: unknown, key: string): unknown {
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (key: string) => unknown).call(value, key);
  }
  return value;
}

/** Left out of objects, `null` in arrays. */
const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

const hasToJson = (v: object): boolean => typeof (v as { toJSON?: unknown }).toJSON === 'function';

/**
 * What is left of `budget` after counting the entries below `v`; negative when it runs out, or
 * when `v` holds something only the walk handles (a toJSON, a BigInt). Recursion is safe: every
 * level costs at least one, so it goes no deeper than the budget.
 */
function remainingAfter(v: object, budget: number): number {
  if (hasToJson(v)) return -1;
  let left = budget;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && left >= 0; i++) left = cost(v[i], left);
  } else {
    // for…in also sees inherited enumerable keys: they can only make the count larger.
    for (const k in v) {
      left = cost((v as Record<string, unknown>)[k], left);
      if (left < 0) break;
    }
  }
  return left;
}

/** `budget` less the cost of one value. */
function cost(x: unknown, budget: number): number {
  switch (typeof x) {
    case 'string':
      return budget - 1 - (x.length >> 6);
    case 'object':
      return x === null ? budget - 1 : remainingAfter(x, budget - 1);
    case 'bigint':
      return -1;
    default:
      return budget - 1;
  }
}

const isBoxed = (v: object): boolean => v instanceof Number || v instanceof String || v instanceof Boolean;

/**
 * The JSON text of `value` in pieces of about `pieceChars` characters (some may be empty: a
 * checkpoint after work that wrote nothing). Their concatenation is `JSON.stringify(value)`.
 * Throws a TypeError when JSON.stringify would throw, or would answer undefined.
 */
export function* jsonPieces(value: unknown, options: PieceOptions = {}): Generator<string, void, undefined> {
  const pieceChars = Math.max(1, options.pieceChars ?? PIECE_CHARS);
  const nativeBudget = options.nativeBudget ?? NATIVE_BUDGET;
  const stack: Frame[] = [];
  const open = new Set<object>();
  let out = '';

  /** Writes a value that is not skipped: a primitive at once, a container by opening its frame. */
  const write = (v: unknown): void => {
    switch (typeof v) {
      case 'string':
        if (v.length <= pieceChars) out += JSON.stringify(v);
        else {
          out += '"';
          stack.push({ kind: STRING, value: v, next: 0 });
        }
        return;
      case 'number':
        out += Number.isFinite(v) ? String(v) : 'null';
        return;
      case 'boolean':
        out += v ? 'true' : 'false';
        return;
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt');
      default:
        break;
    }
    if (v === null) {
      out += 'null';
      return;
    }
    const o = v as object;
    if (isBoxed(o) || remainingAfter(o, nativeBudget) >= 0) {
      out += JSON.stringify(o);
      return;
    }
    if (open.has(o)) throw new TypeError('Converting circular structure to JSON');
    open.add(o);
    if (Array.isArray(o)) {
      out += '[';
      stack.push({ kind: ARRAY, value: o, next: 0 });
    } else {
      out += '{';
      stack.push({ kind: OBJECT, value: o as Record<string, unknown>, keys: Object.keys(o), next: 0, wrote: false });
    }
  };

  const top = viaToJson(value, '');
  if (skipped(top)) throw new TypeError('the value has no JSON text');
  write(top);
  let steps = 0;
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.kind === OBJECT) {
      if (f.next === f.keys.length) {
        out += '}';
        stack.pop();
        open.delete(f.value);
      } else {
        const key = f.keys[f.next++];
        const v = viaToJson(f.value[key], key);
        if (!skipped(v)) {
          out += f.wrote ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`;
          f.wrote = true;
          write(v);
        }
      }
    } else if (f.kind === ARRAY) {
      if (f.next === f.value.length) {
        out += ']';
        stack.pop();
        open.delete(f.value);
      } else {
        const i = f.next++;
        if (i > 0) out += ',';
        const v = viaToJson(f.value[i], String(i));
        if (skipped(v)) out += 'null';
        else write(v);
      }
    } else {
      const s = f.value;
      let end = Math.min(s.length, f.next + pieceChars);
      // Never between the two halves of a surrogate pair: a lone half is escaped, a pair is not.
      if (end < s.length) {
        const c = s.charCodeAt(end - 1);
        if (c >= 0xd800 && c <= 0xdbff) end = end - 1 > f.next ? end - 1 : end + 1;
      }
      out += JSON.stringify(s.slice(f.next, end)).slice(1, -1);
      f.next = end;
      if (end === s.length) {
        out += '"';
        stack.pop();
      }
    }
    if (out.length >= pieceChars || ++steps === STEPS_PER_PIECE) {
      yield out;
      out = '';
      steps = 0;
    }
  }
  yield out;
}

/**
 * The JSON text of `value`, looked at far enough to know whether it is one piece: `whole` is the
 * text when it is (a small answer, written at once with a Content-Length), undefined when not;
 * `pieces` gives the whole text either way.
 */
export function peekPieces(
  value: unknown,
  options?: PieceOptions,
): { readonly whole: string | undefined; readonly pieces: Iterator<string, void, undefined> } {
  const all = jsonPieces(value, options);
  const first = all.next();
  const text = first.done ? '' : first.value;
  const second = all.next();
  if (second.done) return { whole: text, pieces: [text][Symbol.iterator]() as Iterator<string, void, undefined> };
  return {
    whole: undefined,
    pieces: (function* () {
      yield text;
      yield second.value;
      yield* all;
    })(),
  };
}
