/**
 * A task as the page holds it: every node's definition and stored record, built from
 * get_task_nodes pages and kept current by the watch stream's change events. The states shown
 * are derived here by the engine's own rule (SPEC §3.3, src/query/derive.ts), so the tree says
 * what get_task_status says.
 *
 * Pages are read while the stream runs, so a change may arrive that a page already includes, or
 * one from before a page: each node remembers the cursor of the page it came from, and a change
 * is applied only when its cursor is higher. A change then never regresses a node, and an ended
 * attempt is never counted twice.
 *
 * Pure data and functions: no DOM, so the suites run it under Node.
 */
import { endsAttempt } from '../../../src/lifecycle/effects.js';
import type { Json, NodeKind, Operation, State } from '../../../src/lifecycle/index.js';
import { CHILD_BIT, shownState } from '../../../src/query/derive.js';
import type { TaskNodesPage } from '../../../src/query/overview-types.js';
import type { ShownState } from '../../../src/query/types.js';

/** Ended attempts kept per node (get_task_nodes sends at most this many). */
export const ATTEMPTS_KEPT = 100;

export interface Attempt {
  readonly state: State;
  readonly loop: number;
  readonly retry: number;
  readonly skip: boolean;
  readonly errorIgnored: boolean;
  /** ms, null when unset */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

export interface NodeModel {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly kind: NodeKind;
  readonly parent: number;
  readonly depth: number;
  /** exclusive end of the subtree in preorder */
  end: number;
  readonly container: boolean;
  readonly errorIgnorable: boolean;
  state: State;
  shown: ShownState;
  version: string;
  loop: number;
  retry: number;
  skip: boolean;
  errorIgnored: boolean;
  startedAt: number | null;
  finishedAt: number | null;
  exData: Json | null;
  /** ended attempts, oldest first (the newest ATTEMPTS_KEPT) */
  attempts: Attempt[];
  /** ended attempts in all: attempt k of `attempts` is number ended - attempts.length + k + 1 */
  ended: number;
  /** the cursor of the page the node came from: changes at or below it are already in */
  seen: number;
}

/** What a change event of the watch stream carries (src/api/http/watch.ts). */
export interface ChangeEvent {
  readonly cursor: number;
  readonly task_id: string;
  readonly node_id: string;
  readonly operation: Operation;
  readonly from: State;
  readonly to: State;
  readonly at: string | null;
  readonly state: State;
  readonly version: string;
  readonly loop: number;
  readonly retry: number;
  readonly skip: boolean;
  readonly error_ignored: boolean;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly ex_data?: Json;
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

const CONTAINERS: ReadonlySet<NodeKind> = new Set<NodeKind>(['pipeline', 'subprocess']);

export class TaskModel {
  readonly nodes: NodeModel[] = [];
  private readonly byId = new Map<string, number>();
  /** server clock minus this machine's, ms: durations tick on the server's time */
  clockOffset = 0;

  constructor(readonly taskId: string, readonly name: string, readonly total: number) {}

  /** Adds a page (pages come in order: a node's parent is always added before it). */
  addPage(page: TaskNodesPage, receivedAt: number): void {
    this.clockOffset = Date.parse(page.now) - receivedAt;
    for (const n of page.nodes) {
      const index = this.nodes.length;
      const node: NodeModel = {
        index, id: n.id, name: n.name, kind: n.kind, parent: n.parent,
        depth: n.parent < 0 ? 0 : this.nodes[n.parent].depth + 1, end: index + 1,
        container: CONTAINERS.has(n.kind), errorIgnorable: n.error_ignorable,
        state: n.state, shown: n.state, version: n.version, loop: n.loop, retry: n.retry, skip: n.skip,
        errorIgnored: n.error_ignored, startedAt: ms(n.started_at), finishedAt: ms(n.finished_at), exData: n.ex_data,
        attempts: n.attempts.map((a) => ({
          state: a.state, loop: a.loop, retry: a.retry, skip: a.skip, errorIgnored: a.error_ignored,
          startedAt: ms(a.started_at), finishedAt: ms(a.finished_at),
        })),
        ended: n.attempts_ended,
        seen: page.cursor,
      };
      this.nodes.push(node);
      this.byId.set(n.id, index);
      // In preorder a subtree ends where the next node outside it begins.
      for (let p = n.parent; p >= 0; p = this.nodes[p].parent) this.nodes[p].end = index + 1;
    }
  }

  get complete(): boolean {
    return this.nodes.length === this.total;
  }

  indexOf(nodeId: string): number {
    return this.byId.get(nodeId) ?? -1;
  }

  /** Applies a change of the stream; false when it is not news (or names no node of this task). */
  apply(c: ChangeEvent): boolean {
    const i = this.byId.get(c.node_id);
    if (i === undefined || c.task_id !== this.taskId) return false;
    const n = this.nodes[i];
    if (c.cursor <= n.seen) return false;
    if (endsAttempt(c.operation, c.to)) {
      n.attempts.push({
        state: n.state, loop: n.loop, retry: n.retry, skip: n.skip, errorIgnored: n.errorIgnored,
        startedAt: n.startedAt, finishedAt: n.finishedAt,
      });
      n.ended++;
      if (n.attempts.length > ATTEMPTS_KEPT) n.attempts.shift();
    }
    n.state = c.state;
    n.version = c.version;
    n.loop = c.loop;
    n.retry = c.retry;
    n.skip = c.skip;
    n.errorIgnored = c.error_ignored;
    n.startedAt = ms(c.started_at);
    n.finishedAt = ms(c.finished_at);
    n.exData = c.ex_data ?? null;
    n.seen = c.cursor;
    return true;
  }

  /** The states shown (SPEC §3.3), bottom-up: children come after their parent in preorder. */
  derive(): void {
    const bits = new Uint8Array(this.nodes.length);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      n.shown = shownState(n.state, bits[i]);
      if (n.parent >= 0) bits[n.parent] |= CHILD_BIT[n.shown];
    }
  }

  /** The clock now, on the server's time. */
  now(localNow: number): number {
    return localNow + this.clockOffset;
  }
}

/**
 * The rows a tree shows, in preorder: a node, then (for a failed node with error data) a row for
 * its error; the subtrees of collapsed nodes left out. A row is `index * 2 + (error ? 1 : 0)`,
 * so 10^4 rows are one typed array and no objects.
 */
export function visibleRows(model: TaskModel, collapsed: ReadonlySet<number>): Int32Array {
  const rows = new Int32Array(model.nodes.length * 2);
  let k = 0;
  for (let i = 0; i < model.nodes.length;) {
    const n = model.nodes[i];
    rows[k++] = i * 2;
    if (n.state === 'FAILED' && n.exData !== null) rows[k++] = i * 2 + 1;
    i = collapsed.has(i) ? n.end : i + 1;
  }
  return rows.subarray(0, k);
}

/** The ancestor condition of SPEC §2 for node i: what the lifecycle checks before an operation. */
export function ancestorsOf(model: TaskModel, i: number): 'running' | 'suspended' | 'archived' {
  let result: 'running' | 'suspended' = 'running';
  for (let p = model.nodes[i].parent; p >= 0; p = model.nodes[p].parent) {
    const s = model.nodes[p].state;
    if (s === 'SUSPENDED') result = 'suspended';
    else if (s !== 'RUNNING') return 'archived';
  }
  return result;
}

/** Nodes of the subtree of i in each stored state, and its finished and total leaves. */
export function countsOf(model: TaskModel, i: number): { counts: Record<State, number>; finished: number; leaves: number } {
  const counts: Record<State, number> = { CREATED: 0, READY: 0, RUNNING: 0, SUSPENDED: 0, FINISHED: 0, FAILED: 0, REVOKED: 0 };
  let finished = 0;
  let leaves = 0;
  for (let j = i; j < model.nodes[i].end; j++) {
    const n = model.nodes[j];
    counts[n.state]++;
    if (!n.container) {
      leaves++;
      if (n.state === 'FINISHED') finished++;
    }
  }
  return { counts, finished, leaves };
}
