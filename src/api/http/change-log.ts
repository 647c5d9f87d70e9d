/**
 * The recent node changes of the whole engine, kept so that a watcher whose connection dropped
 * can resume where it stopped. A bounded ring: at most `maxEvents` changes and none older than
 * `maxAgeMs`, whichever is shorter (default 10,000 changes / 10 minutes). A change's cursor is its
 * engine `seq`.
 *
 * Cursor 0 means "when this log started": a watcher that connected before any change was seen
 * holds it, and it stays valid until the first change is evicted.
 *
 * The log is also what watchers are fed from (fanout.ts): each watcher keeps a cursor into it and
 * reads on from there as fast as its socket takes it, so a watcher that falls behind costs a
 * cursor, not a queue. Each entry carries its `change` event encoded once, the first time any
 * watcher needs it, and the node's preorder index in its task, found once.
 */
import type { NodeChange } from '../../store/index.js';
import type { EnginePort } from './port.js';

export interface RetentionOptions {
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  /** ms; the clock ages are measured with. Default Date.now */
  readonly now: () => number;
}

export const DEFAULT_RETENTION: RetentionOptions = { maxEvents: 10_000, maxAgeMs: 10 * 60_000, now: Date.now };

export interface LogEntry {
  readonly change: NodeChange;
  readonly at: number;
  /** the SSE `change` event, encoded by the first watcher that sends it */
  frame?: Buffer;
  /** the node's preorder index in its task's definition, found by the first watcher that filters on it */
  index?: number;
}

type Entry = LogEntry;

export type ChangeListener = (change: NodeChange) => void;

export class ChangeLog {
  private readonly ring: (Entry | undefined)[];
  private head = 0;
  private size = 0;
  /** highest cursor seen; 0 before the first change */
  private last = 0;
  /** cursors at or below this are gone (never seen, or evicted); undefined before the first change */
  private floor: number | undefined;
  private evicted = false;
  private readonly listeners = new Set<ChangeListener>();
  private readonly onNode = (change: NodeChange): void => this.append(change);

  constructor(
    private readonly engine: EnginePort,
    readonly retention: RetentionOptions = DEFAULT_RETENTION,
  ) {
    if (!Number.isSafeInteger(retention.maxEvents) || retention.maxEvents < 1) throw new RangeError('maxEvents must be a positive integer');
    this.ring = new Array<Entry | undefined>(retention.maxEvents);
    // Only durable changes: a watcher never sees a change the journal could still lose, so a
    // cursor it holds still names the same change after a restart. Those from before the
    // restart come first, so it can resume across it.
    for (const change of engine.recentChanges()) this.append(change);
    engine.on('node_durable', this.onNode);
  }

  /** The cursor of "now": a watcher given it misses nothing that happens next. */
  get cursor(): number {
    return this.last;
  }

  /** Listeners hear each change after it is logged, so `since` already includes it. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes after `cursor`, oldest first; undefined when they are no longer all retained. */
  since(cursor: number): NodeChange[] | undefined {
    if (!this.retains(cursor)) return undefined;
    const out: NodeChange[] = [];
    for (let k = this.firstAfter(cursor); k < this.size; k++) out.push(this.entry(k).change);
    return out;
  }

  /** Are all the changes after `cursor` still here (and is it a cursor this log issued)? */
  retains(cursor: number): boolean {
    this.expire();
    if (!Number.isSafeInteger(cursor) || cursor < 0 || cursor > this.last) return false;
    return cursor === 0 ? !this.evicted : this.floor !== undefined && cursor >= this.floor;
  }

  /**
   * Visits the retained entries after `cursor`, oldest first, until `visit` answers false (a
   * watcher whose socket is full stops there). Only meaningful when `retains(cursor)`.
   */
  forEachAfter(cursor: number, visit: (entry: LogEntry) => boolean): void {
    for (let k = this.firstAfter(cursor); k < this.size; k++) if (!visit(this.entry(k))) return;
  }

  close(): void {
    this.engine.off('node_durable', this.onNode);
    this.listeners.clear();
  }

  private append(change: NodeChange): void {
    const cap = this.ring.length;
    if (this.floor === undefined) this.floor = change.seq - 1;
    if (this.size === cap) this.evictOldest();
    this.ring[(this.head + this.size) % cap] = { change, at: this.retention.now() };
    this.size++;
    this.last = change.seq;
    this.expire();
    for (const listener of this.listeners) {
      // One broken watcher must not keep the others from hearing the change.
      try {
        listener(change);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }

  private expire(): void {
    const oldest = this.retention.now() - this.retention.maxAgeMs;
    while (this.size > 0 && this.entry(0).at < oldest) this.evictOldest();
  }

  private evictOldest(): void {
    const e = this.entry(0);
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    this.floor = e.change.seq;
    this.evicted = true;
  }

  private entry(k: number): Entry {
    return this.ring[(this.head + k) % this.ring.length]!;
  }

  /** Index of the first retained change whose cursor is above `cursor` (binary search: cursors increase). */
  private firstAfter(cursor: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entry(mid).change.seq <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
