/**
 * Finding the credentials of an ESB-style body (bk_app_code, bk_app_secret and bk_username among
 * the body's own fields) without parsing the body: a scan of the raw bytes that reads the
 * top-level keys, skips every other value without building it, and stops as soon as the three are
 * found. An anonymous body is then refused for what the scan cost: a 1 MB JSON body of 120,000
 * keys, or a form of 200,000, is refused after `maxKeys` of them, in microseconds, where a full
 * parse would take tens of milliseconds of the event loop.
 *
 * The scan decides nothing on its own: what it finds is checked like any credentials, and the
 * parsed body is checked again (a duplicate key later in the body, which JSON.parse would keep,
 * cannot smuggle other credentials past it).
 */
import { ERROR_CODES } from '../../model/index.js';
import { HttpRefusal } from './refusal.js';

export interface ScanLimits {
  /** top-level keys of a JSON body, or parameters of a form; more is refused (3540000). Default 1,000 */
  readonly maxKeys: number;
  /** nesting of a JSON body's values; deeper is refused (3540000). Default 4,096 */
  readonly maxDepth: number;
  /** characters of a credential value; a longer one is not taken as one. Default 1,024 */
  readonly maxCredentialChars: number;
}

export const DEFAULT_SCAN: ScanLimits = { maxKeys: 1_000, maxDepth: 4_096, maxCredentialChars: 1_024 };

export const CREDENTIAL_FIELDS = ['bk_app_code', 'bk_app_secret', 'bk_username'] as const;
type Field = (typeof CREDENTIAL_FIELDS)[number];
const FIELDS: ReadonlySet<string> = new Set(CREDENTIAL_FIELDS);

export interface Scan {
  /** the credential fields found (string values only) */
  readonly credentials: Partial<Record<Field, string>>;
  /** top-level keys (JSON) or parameters (form) read before stopping */
  readonly keys: number;
  /** bytes read before stopping */
  readonly bytes: number;
}

export const tooManyKeys = (limit: number): HttpRefusal =>
  new HttpRefusal(200, ERROR_CODES.invalid, `invalid request body: more than ${limit} parameters`);
export const tooDeep = (limit: number): HttpRefusal =>
  new HttpRefusal(200, ERROR_CODES.invalid, `invalid request body: nested deeper than ${limit} levels`);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Scans a JSON body (or its first bytes) for the credentials. Throws an HttpRefusal past the limits. */
export function scanJson(body: Uint8Array, limits: ScanLimits = DEFAULT_SCAN): Scan {
  const credentials: Partial<Record<Field, string>> = {};
  let found = 0;
  let keys = 0;
  let i = 0;
  const n = body.length;
  const done = (): Scan => ({ credentials, keys, bytes: Math.min(i, n) });
  const space = (): void => {
    while (i < n && isSpace(body[i])) i++;
  };
  /** i at an opening quote: moves past the closing one; the string's [start, end) bytes, or -1 if unfinished. */
  const string = (): number => {
    const start = ++i;
    while (i < n && body[i] !== QUOTE) i += body[i] === BACKSLASH ? 2 : 1;
    if (i >= n) return -1;
    i++;
    return start;
  };
  const text = (start: number): string | undefined => {
    try {
      const v: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset + start - 1, i - start + 1).toString('utf8'));
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  /** Skips one value of any kind, nested ones included, counting depth; false if the bytes ran out. */
  const skipValue = (): boolean => {
    if (i >= n) return false;
    if (body[i] === QUOTE) return string() >= 0;
    if (body[i] !== 0x7b && body[i] !== 0x5b) {
      // a number or a literal: up to the next delimiter
      while (i < n && body[i] !== 0x2c && body[i] !== 0x7d && body[i] !== 0x5d && !isSpace(body[i])) i++;
      return i < n;
    }
    let depth = 0;
    while (i < n) {
      const b = body[i];
      if (b === QUOTE) {
        if (string() < 0) return false;
        continue;
      }
      i++;
      if (b === 0x7b || b === 0x5b) {
        if (++depth > limits.maxDepth) throw tooDeep(limits.maxDepth);
      } else if ((b === 0x7d || b === 0x5d) && --depth === 0) return true;
    }
    return false;
  };

  space();
  if (body[i] !== 0x7b) return done(); // not an object: nothing to find (the parse says what is wrong)
  i++;
  for (;;) {
    space();
    if (i >= n || body[i] !== QUOTE) return done(); // the end (`}`), or malformed, or the bytes ran out
    if (++keys > limits.maxKeys) throw tooManyKeys(limits.maxKeys);
    const keyStart = string();
    if (keyStart < 0) return done();
    // Credential names are short: longer keys are skipped without decoding.
    const key = i - keyStart <= 32 ? text(keyStart) : undefined;
    space();
    if (body[i] !== 0x3a) return done();
    i++;
    space();
    if (key !== undefined && FIELDS.has(key) && body[i] === QUOTE) {
      const valueStart = string();
      if (valueStart < 0) return done();
      const value = i - valueStart <= limits.maxCredentialChars * 4 ? text(valueStart) : undefined;
      // The last one counts, as in JSON.parse.
      if (value !== undefined && value.length <= limits.maxCredentialChars) {
        if (!Object.hasOwn(credentials, key)) found++;
        credentials[key as Field] = value;
      }
    } else if (!skipValue()) return done();
    if (found === CREDENTIAL_FIELDS.length) return done();
    space();
    if (body[i] !== 0x2c) return done();
    i++;
  }
}

/**
 * Scans a form body (application/x-www-form-urlencoded) for the credentials, reading at most
 * `maxKeys` parameters. Decoded as URLSearchParams decodes.
 */
export function scanForm(body: Uint8Array, limits: ScanLimits = DEFAULT_SCAN): Scan {
  const credentials: Partial<Record<Field, string>> = {};
  let keys = 0;
  let from = 0;
  const n = body.length;
  while (from <= n) {
    let to = body.indexOf(0x26, from); // '&'
    if (to < 0) to = n;
    if (to > from) {
      if (++keys > limits.maxKeys) throw tooManyKeys(limits.maxKeys);
      const eq = body.indexOf(0x3d, from); // '='
      const keyEnd = eq >= 0 && eq < to ? eq : to;
      if (keyEnd - from <= 96) {
        const key = decode(body, from, keyEnd);
        if (FIELDS.has(key) && to - keyEnd - 1 <= limits.maxCredentialChars * 12) {
          const value = keyEnd < to ? decode(body, keyEnd + 1, to) : '';
          if (value.length <= limits.maxCredentialChars) credentials[key as Field] = value;
        }
      }
    }
    from = to + 1;
  }
  return { credentials, keys, bytes: n };
}

const decode = (body: Uint8Array, from: number, to: number): string =>
  new URLSearchParams(`k=${Buffer.from(body.buffer, body.byteOffset + from, to - from).toString('utf8')}`).get('k') ?? '';

/** Counts the parameters of a form body, stopping past `maxKeys`: a form is parsed only after this. */
export function checkFormSize(body: Uint8Array, limits: ScanLimits = DEFAULT_SCAN): void {
  let keys = 0;
  for (let from = 0; from <= body.length; ) {
    let to = body.indexOf(0x26, from);
    if (to < 0) to = body.length;
    if (to > from && ++keys > limits.maxKeys) throw tooManyKeys(limits.maxKeys);
    from = to + 1;
  }
}
