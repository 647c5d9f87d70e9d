/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the trace id of a valid
 * `traceparent` header becomes the envelope's trace_id, so a caller can find our answer in its
 * own traces. An invalid header is ignored (the spec says to restart the trace), never refused.
 */

// version "00" has exactly four fields; a later version may append more after a dash.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);

/** The trace id of a valid traceparent header value, else undefined. */
export function traceIdOf(header: string | string[] | undefined): string | undefined {
  // Two traceparent headers make the context ambiguous: the spec treats that as invalid.
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, , rest] = m;
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  return traceId;
}
