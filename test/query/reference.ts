/**
 * Slow, obviously right reimplementations for the property suites to compare against: time text
 * from Intl's own fields, rounding from Math.round, derived states and ex_data by recursion over
 * an answer tree (fine for test trees, whose depth is small).
 */
import type { Json, NodeStatus, ShownState, State } from '../../src/index.js';

export function referenceLocalTime(ms: number, zone: string): string {
  const dtf = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'longOffset',
  });
  const p = new Map(dtf.formatToParts(ms).map((x) => [x.type, x.value]));
  const name = p.get('timeZoneName')!;
  const offset = name === 'GMT' ? '+0000' : name.slice(3).replaceAll(':', '');
  return `${p.get('year')!.padStart(4, '0')}-${p.get('month')}-${p.get('day')} ${p.get('hour')}:${p.get('minute')}:${p.get('second')} ${offset}`;
}

/** Python's round() for x ≥ 0. */
export function referenceRound(x: number): number {
  const r = Math.round(x);
  return x - Math.floor(x) === 0.5 && r % 2 === 1 ? r - 1 : r;
}

export function referenceElapsed(startedAt: number | null, finishedAt: number | null, now: number): number {
  if (startedAt === null) return 0;
  const end = finishedAt ?? now;
  return end <= startedAt ? 0 : referenceRound((end - startedAt) / 1000);
}

/** SPEC §3.3 spelled out. */
export function referenceShown(own: State, children: readonly ShownState[]): ShownState {
  if (own !== 'RUNNING') return own;
  if (children.includes('FAILED')) return 'FAILED';
  if (children.includes('SUSPENDED') || children.includes('NODE_SUSPENDED')) return 'NODE_SUSPENDED';
  return 'RUNNING';
}

/**
 * SPEC §3.4 spelled out: the ids to list, in preorder. Preorder is the definition's order, which
 * `childrenOf` gives; it is not the key order of an answer's `children`, where integer-like ids
 * ("10", "2") come first.
 */
export function referenceFailedLeaves(s: NodeStatus, childrenOf: (id: string) => readonly string[]): string[] {
  const failedKids = childrenOf(s.id)
    .filter((id) => Object.hasOwn(s.children, id) && s.children[id].state === 'FAILED')
    .map((id) => s.children[id]);
  return failedKids.length === 0 ? [s.id] : failedKids.flatMap((kid) => referenceFailedLeaves(kid, childrenOf));
}

/** Keys in the order a JS object would enumerate them (integer-like first): build one and ask. */
export function jsKeyOrder(ids: readonly string[]): string[] {
  const o: Record<string, Json> = Object.create(null);
  for (const id of ids) o[id] = null;
  return Object.keys(o);
}
