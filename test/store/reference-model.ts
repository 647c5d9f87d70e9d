/**
 * A reference model of SPEC §2, written from the spec's text alone: it imports nothing from src.
 * The model-based property suite runs it beside the engine and compares them step by step; the
 * table test compares the compiled lifecycle table with its `specNext`.
 *
 * Plain mutable objects on purpose: the point is a second, obviously-correct reading of the
 * spec, not a second efficient engine.
 */

export type SpecState = 'CREATED' | 'READY' | 'RUNNING' | 'SUSPENDED' | 'FINISHED' | 'FAILED' | 'REVOKED';
export type SpecOperation =
  | 'start'
  | 'finish'
  | 'fail'
  | 'forced_fail'
  | 'pause'
  | 'resume'
  | 'retry'
  | 'skip'
  | 'reenter'
  | 'revoke'
  | 'callback';
/** the root's revoke as it reaches each active descendant; a retry an auto_retry policy makes */
export type SpecMove = SpecOperation | 'revoke_cascade' | 'auto_retry';
export type SpecKind = 'pipeline' | 'subprocess' | 'activity' | 'event' | 'gateway';
export type Ancestors = 'running' | 'suspended' | 'archived';

export const SPEC_STATES: readonly SpecState[] = ['CREATED', 'READY', 'RUNNING', 'SUSPENDED', 'FINISHED', 'FAILED', 'REVOKED'];
export const SPEC_OPERATIONS: readonly SpecOperation[] = [
  'start',
  'finish',
  'fail',
  'forced_fail',
  'pause',
  'resume',
  'retry',
  'skip',
  'reenter',
  'revoke',
  'callback',
];

/** SPEC §2's state graph, "from → to", with the REVOKED moves of a revoke's cascade. */
export const SPEC_GRAPH: Readonly<Record<SpecState, readonly SpecState[]>> = {
  CREATED: ['RUNNING', 'SUSPENDED'],
  READY: ['RUNNING', 'SUSPENDED', 'REVOKED'],
  RUNNING: ['FINISHED', 'FAILED', 'REVOKED', 'SUSPENDED'],
  SUSPENDED: ['READY', 'RUNNING', 'REVOKED'],
  FINISHED: ['RUNNING', 'FAILED'],
  FAILED: ['READY', 'FINISHED'],
  REVOKED: [],
};

/** Is `from → to` a move SPEC §2 allows? (callback is RUNNING → RUNNING, state unchanged) */
export const specAllows = (from: SpecState, to: SpecState): boolean =>
  SPEC_GRAPH[from].includes(to) || (from === 'RUNNING' && to === 'RUNNING');

export const ACTIVE_STATES: readonly SpecState[] = ['RUNNING', 'READY', 'SUSPENDED'];

export interface SpecNodeTraits {
  readonly container: boolean;
  readonly root: boolean;
  readonly errorIgnorable: boolean;
  /** the node has been entered rerunLimit times */
  readonly atRerunLimit: boolean;
}

/**
 * SPEC §2's operations table and preconditions, as one function: the state an operation moves
 * the node to, or null when it is refused.
 */
export function specNext(
  n: SpecNodeTraits,
  ancestors: Ancestors,
  descendantsActive: boolean,
  state: SpecState,
  op: SpecMove,
): SpecState | null {
  const live = ancestors !== 'archived';
  const running = ancestors === 'running';
  const leaf = !n.container;
  switch (op) {
    case 'start':
      return (state === 'CREATED' || state === 'READY') && running ? 'RUNNING' : null;
    case 'finish':
      return state === 'RUNNING' && live && !descendantsActive ? 'FINISHED' : null;
    case 'fail':
      if (state !== 'RUNNING' || !live) return null;
      return n.errorIgnorable ? 'FINISHED' : 'FAILED';
    case 'forced_fail':
      return leaf && state === 'RUNNING' && live ? 'FAILED' : null;
    case 'pause':
      if (!live) return null;
      if (n.container) return state === 'RUNNING' ? 'SUSPENDED' : null;
      return state === 'CREATED' || state === 'READY' ? 'SUSPENDED' : null;
    case 'resume':
      if (state !== 'SUSPENDED' || !running) return null;
      return n.container ? 'RUNNING' : 'READY';
    case 'retry':
    case 'auto_retry':
      return state === 'FAILED' && live ? 'READY' : null;
    case 'skip':
      return state === 'FAILED' && live ? 'FINISHED' : null;
    case 'reenter':
      if (state !== 'FINISHED' || !running) return null;
      return n.atRerunLimit ? 'FAILED' : 'RUNNING';
    case 'revoke':
      // root only, and the one operation without an ancestor precondition
      return n.root && (state === 'RUNNING' || state === 'SUSPENDED') ? 'REVOKED' : null;
    case 'revoke_cascade':
      return ACTIVE_STATES.includes(state) ? 'REVOKED' : null;
    case 'callback':
      return leaf && state === 'RUNNING' && live ? 'RUNNING' : null;
  }
}

// ---------------------------------------------------------------------------------------------
// The mutable reference store.

export interface ModelRecord {
  state: SpecState;
  version: string;
  loop: number;
  retry: number;
  auto_retry_times: number;
  skip: boolean;
  error_ignored: boolean;
  started_at: number | null;
  finished_at: number | null;
  state_refresh_at: number;
  ex_data: unknown;
}

export interface ModelNode {
  readonly id: string;
  readonly kind: SpecKind;
  readonly errorIgnorable: boolean;
  readonly parent: number;
  readonly children: number[];
  record: ModelRecord;
  history: ModelRecord[];
}

export interface ModelTask {
  readonly id: string;
  readonly createdAt: number;
  /** in definition order, depth first: the root is node 0 */
  readonly nodes: ModelNode[];
  readonly byId: Map<string, number>;
}

export interface NestedNode {
  readonly id: string;
  readonly name?: string;
  readonly kind: SpecKind;
  readonly error_ignorable?: boolean;
  readonly children?: readonly NestedNode[];
}

export const freshRecord = (createdAt: number): ModelRecord => ({
  state: 'CREATED',
  version: '',
  loop: 0,
  retry: 0,
  auto_retry_times: 0,
  skip: false,
  error_ignored: false,
  started_at: null,
  finished_at: null,
  state_refresh_at: createdAt,
  ex_data: undefined,
});

export function modelTask(id: string, pipeline: NestedNode, createdAt: number): ModelTask {
  const nodes: ModelNode[] = [];
  const byId = new Map<string, number>();
  const visit = (d: NestedNode, parent: number): number => {
    const i = nodes.length;
    const node: ModelNode = {
      id: d.id,
      kind: d.kind,
      errorIgnorable: d.error_ignorable ?? false,
      parent,
      children: [],
      record: freshRecord(createdAt),
      history: [],
    };
    nodes.push(node);
    byId.set(d.id, i);
    for (const c of d.children ?? []) node.children.push(visit(c, i));
    return i;
  };
  visit(pipeline, -1);
  return { id, createdAt, nodes, byId };
}

const isContainer = (k: SpecKind): boolean => k === 'pipeline' || k === 'subprocess';

export function ancestorsOf(t: ModelTask, i: number): Ancestors {
  let result: Ancestors = 'running';
  for (let p = t.nodes[i].parent; p >= 0; p = t.nodes[p].parent) {
    const s = t.nodes[p].record.state;
    if (s === 'RUNNING') continue;
    if (s === 'SUSPENDED') result = 'suspended';
    else return 'archived';
  }
  return result;
}

export function descendantsOf(t: ModelTask, i: number): number[] {
  const out: number[] = [];
  const walk = (j: number): void => {
    for (const c of t.nodes[j].children) {
      out.push(c);
      walk(c);
    }
  };
  walk(i);
  return out;
}

export const hasActiveDescendant = (t: ModelTask, i: number): boolean =>
  descendantsOf(t, i).some((j) => ACTIVE_STATES.includes(t.nodes[j].record.state));

export function traitsOf(t: ModelTask, i: number, rerunLimit: number): SpecNodeTraits {
  const n = t.nodes[i];
  return {
    container: isContainer(n.kind),
    root: n.parent < 0,
    errorIgnorable: n.errorIgnorable,
    atRerunLimit: n.record.loop >= rerunLimit,
  };
}

/** Where an operation would move node i now, or null when refused by state or structure. */
export function modelNext(t: ModelTask, i: number, op: SpecMove, rerunLimit: number): SpecState | null {
  // only finish looks at descendants: do not walk them for the others
  const busy = op === 'finish' && hasActiveDescendant(t, i);
  return specNext(traitsOf(t, i, rerunLimit), ancestorsOf(t, i), busy, t.nodes[i].record.state, op);
}

/** Every operation the model accepts on node i now, with where it moves the node. */
export function legalOperations(t: ModelTask, i: number, rerunLimit: number): [SpecOperation, SpecState][] {
  const traits = traitsOf(t, i, rerunLimit);
  const ancestors = ancestorsOf(t, i);
  const state = t.nodes[i].record.state;
  const out: [SpecOperation, SpecState][] = [];
  for (const op of SPEC_OPERATIONS) {
    const busy = op === 'finish' && hasActiveDescendant(t, i);
    const to = specNext(traits, ancestors, busy, state, op);
    if (to !== null) out.push([op, to]);
  }
  return out;
}

export interface ModelChange {
  readonly index: number;
  readonly from: SpecState;
  readonly to: SpecState;
  /** did the operation draw a new version for this node? */
  readonly newVersion: boolean;
}

/**
 * Applies an operation the model accepts (the caller has checked `modelNext`), mutating the
 * records. `mint` is asked for each new version, in the order the nodes change.
 */
export function modelApply(
  t: ModelTask,
  i: number,
  op: SpecOperation,
  now: number,
  rerunLimit: number,
  exData: unknown,
  mint: () => string,
): ModelChange[] {
  const changes: ModelChange[] = [];
  const moveOne = (j: number, move: SpecMove): void => {
    const node = t.nodes[j];
    const r = node.record;
    const from = r.state;
    const to = modelNext(t, j, move, rerunLimit);
    if (to === null) throw new Error(`model: ${move} of ${node.id} is not allowed`);
    const next: ModelRecord = { ...r, state: to, state_refresh_at: now };
    let fresh = false;
    const newVersion = (): void => {
      next.version = mint();
      fresh = true;
    };
    switch (move) {
      case 'start':
        if (r.loop === 0) {
          next.loop = 1;
          newVersion();
        }
        next.started_at = now;
        next.finished_at = null;
        break;
      case 'finish':
        next.finished_at = now;
        break;
      case 'fail':
        next.finished_at = now;
        next.ex_data = exData;
        if (to === 'FINISHED') next.error_ignored = true;
        break;
      case 'forced_fail':
        next.finished_at = now;
        next.ex_data = exData;
        // "never ignored": this failure stands, whatever an earlier attempt's flag said
        next.error_ignored = false;
        newVersion();
        break;
      case 'pause':
      case 'resume':
      case 'callback':
        break;
      case 'retry':
        node.history.push(r);
        next.retry = r.retry + 1;
        newVersion();
        next.started_at = null;
        next.finished_at = null;
        next.ex_data = undefined;
        next.error_ignored = false; // a new attempt owes nothing to the failed one
        break;
      case 'skip':
        next.skip = true;
        next.retry = r.retry + 1;
        newVersion();
        next.finished_at = now;
        break;
      case 'reenter':
        if (to === 'FAILED') {
          next.finished_at = now;
          next.ex_data = `node execution exceed rerun limit ${rerunLimit}`;
          // the limit's failure stands: it is never an ignored one
          next.error_ignored = false;
        } else {
          node.history.push(r);
          next.loop = r.loop + 1;
          next.skip = false;
          next.error_ignored = false;
          newVersion();
          next.started_at = now;
          next.finished_at = null;
          // SPEC is silent on ex_data at re-entry; a FINISHED node carries it only after a skip
          // or an ignored failure, and a new attempt should not show the old attempt's error.
          next.ex_data = undefined;
        }
        break;
      case 'revoke':
      case 'revoke_cascade':
        next.finished_at = now;
        break;
    }
    changes.push({ index: j, from, to, newVersion: fresh });
    node.record = next;
  };
  if (op === 'revoke') {
    // Decide the cascade on the tree as it was, then move the root first, descendants in order.
    const cascade = descendantsOf(t, i)
      .filter((j) => ACTIVE_STATES.includes(t.nodes[j].record.state))
      .sort((a, b) => a - b);
    moveOne(i, 'revoke');
    for (const j of cascade) moveOne(j, 'revoke_cascade');
  } else {
    moveOne(i, op);
  }
  return changes;
}
