/**
 * A persistent vector: a 32-way trie whose nodes are shared between versions. Writing one slot
 * copies the path to it (at most 7 arrays of 33 + k for 2^30 slots), never a wide object, so the
 * cost of a write does not grow with the number of siblings or the size of the vector.
 *
 * Transient edits: every node remembers the edit token it was created under. A write under the
 * same token changes that node in place, since no snapshot can see it yet; the engine starts a
 * new token whenever it hands out a snapshot, and from then on the nodes that snapshot holds are
 * copied before they change. This is Clojure's transient/persistent pairing: a run of operations
 * with no snapshot between them shares one path copy.
 *
 * Roll-ups: a trie made with k classes keeps, in each node, how many of the values beneath it
 * fall in each class (the caller says which class a write removes and which it adds; a value may
 * be in none). So "how many values of [lo, hi) are in class c?" sums whole subtrees and descends
 * only along the two edges of the range: O(32 · k · depth), never a walk of the range, and
 * "is any value in [lo, hi) in these classes?" skips whole subtrees that hold none.
 */

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
const EDIT = WIDTH;
/** the class counts start here */
const COUNTS = WIDTH + 1;

/** An edit token: identity is all that matters. */
export type Edit = object;

/** slots 0..31: children (inner) or values (leaf); 32: the edit token; 33..33+k-1: class counts */
type Node = unknown[];

export interface Trie<T> {
  readonly root: Node | undefined;
  /** bits to shift an index by at the root; 0 when the root is a leaf */
  readonly shift: number;
  /** how many classes each node counts */
  readonly classes: number;
  /** phantom: the value type */
  readonly _values?: T;
}

/** No class: a write that neither removes nor adds a counted value. */
export const NO_CLASS = -1;

/** The most classes a trie counts: class sets are 32-bit masks. */
export const MAX_CLASSES = 31;

const templates: Node[] = [];

/** An empty node with k zero counts, copied from one template per k (slice keeps it packed). */
function freshNode(edit: Edit, classes: number): Node {
  let template = templates[classes];
  if (template === undefined) {
    template = Array.from({ length: COUNTS + classes }, (_, s) => (s >= COUNTS ? 0 : undefined));
    templates[classes] = template;
  }
  const n = template.slice();
  n[EDIT] = edit;
  return n;
}

function editable(node: Node | undefined, edit: Edit, classes: number): Node {
  if (node === undefined) return freshNode(edit, classes);
  if (node[EDIT] === edit) return node;
  const n = node.slice();
  n[EDIT] = edit;
  return n;
}

/** Index i fits without growing. Indexes are below 2^31, so a 35-bit capacity holds them all. */
const fits = (t: Trie<unknown>, i: number): boolean => t.shift + BITS >= 31 || i >>> (t.shift + BITS) === 0;

/** An empty vector with room for `size` values without growing, counting `classes` classes. */
export function emptyTrie<T>(size = 0, classes = 0): Trie<T> {
  if (!Number.isInteger(classes) || classes < 0 || classes > MAX_CLASSES) throw new RangeError(`classes must be 0..${MAX_CLASSES}`);
  let shift = 0;
  while (2 ** (shift + BITS) < size) shift += BITS;
  return { root: undefined, shift, classes };
}

/** The value at i, for i within the trie's reach (the size it was made for, or has grown to by set). */
export function get<T>(t: Trie<T>, i: number): T | undefined {
  let node = t.root;
  for (let s = t.shift; s > 0 && node !== undefined; s -= BITS) node = node[(i >>> s) & MASK] as Node | undefined;
  return node === undefined ? undefined : (node[i & MASK] as T | undefined);
}

function setIn(
  node: Node | undefined,
  shift: number,
  i: number,
  value: unknown,
  edit: Edit,
  classes: number,
  from: number,
  to: number,
): Node {
  const n = editable(node, edit, classes);
  if (from !== to) {
    if (from >= 0) n[COUNTS + from] = (n[COUNTS + from] as number) - 1;
    if (to >= 0) n[COUNTS + to] = (n[COUNTS + to] as number) + 1;
  }
  const slot = (i >>> shift) & MASK;
  n[slot] = shift === 0 ? value : setIn(n[slot] as Node | undefined, shift - BITS, i, value, edit, classes, from, to);
  return n;
}

/**
 * Writes slot i under an edit token. `from` is the class of the value the write replaces and `to`
 * the class of the new one (NO_CLASS for none; both NO_CLASS in a trie without classes). Returns
 * the same Trie object when the root was changed in place.
 */
export function set<T>(t: Trie<T>, i: number, value: T, edit: Edit, from = NO_CLASS, to = NO_CLASS): Trie<T> {
  let trie = t;
  while (!fits(trie, i)) {
    let root: Node | undefined;
    if (trie.root !== undefined) {
      root = freshNode(edit, trie.classes);
      root[0] = trie.root;
      for (let k = COUNTS; k < COUNTS + trie.classes; k++) root[k] = trie.root[k];
    }
    trie = { root, shift: trie.shift + BITS, classes: trie.classes };
  }
  const root = setIn(trie.root, trie.shift, i, value, edit, trie.classes, from, to);
  return root === trie.root ? trie : { root, shift: trie.shift, classes: trie.classes };
}

function unsetIn(node: Node, shift: number, i: number, edit: Edit, classes: number, cls: number): Node | undefined {
  if (node[COUNTS + cls] === 1) return undefined; // the only value beneath: the whole node goes
  const n = editable(node, edit, classes);
  n[COUNTS + cls] = (n[COUNTS + cls] as number) - 1;
  const slot = (i >>> shift) & MASK;
  n[slot] = shift === 0 ? undefined : unsetIn(n[slot] as Node, shift - BITS, i, edit, classes, cls);
  return n;
}

/**
 * Clears slot i of a vector in which every value is in class `cls`, dropping every node left
 * without a value, so that a vector of tasks keeps nothing of the ones removed from it: its size
 * follows the live values, not every value it ever held.
 */
export function unset<T>(t: Trie<T>, i: number, edit: Edit, cls = 0): Trie<T> {
  if (get(t, i) === undefined) return t;
  return { root: unsetIn(t.root!, t.shift, i, edit, t.classes, cls), shift: t.shift, classes: t.classes };
}

/** How many values beneath a node are in any class of `classes` (a list of class numbers). */
function weight(node: Node, classes: readonly number[]): number {
  let w = 0;
  for (const c of classes) w += node[COUNTS + c] as number;
  return w;
}

/**
 * Calls `visit` for every value with an index in [lo, hi) that is in one of `classes`, in index
 * order, skipping subtrees that hold none; stops early when `visit` returns true. `has` tells
 * such a value from the others in a leaf (it must agree with the classes the writes said).
 */
export function visitClasses<T>(
  t: Trie<T>,
  lo: number,
  hi: number,
  classes: readonly number[],
  has: (v: T, i: number) => boolean,
  visit: (v: T, i: number) => boolean | void,
): void {
  const walk = (node: Node | undefined, shift: number, base: number): boolean => {
    if (node === undefined || weight(node, classes) === 0) return false;
    const span = 2 ** shift;
    for (let s = 0; s < WIDTH; s++) {
      const start = base + s * span;
      if (start + span <= lo) continue;
      if (start >= hi) return false;
      if (shift === 0) {
        const v = node[s] as T | undefined;
        if (v !== undefined && has(v, start) && visit(v, start)) return true;
      } else if (walk(node[s] as Node | undefined, shift - BITS, start)) return true;
    }
    return false;
  };
  walk(t.root, t.shift, 0);
}

/**
 * Adds to `out[c]` the number of values in [lo, hi) in class c, for every class. Subtrees wholly
 * inside the range give their counts; only the subtrees the range's two ends cut are descended
 * into, and in a leaf `classOf` classifies the values that are in range.
 */
export function countClasses<T>(t: Trie<T>, lo: number, hi: number, classOf: (v: T, i: number) => number, out: number[]): void {
  const k = t.classes;
  const walk = (node: Node | undefined, shift: number, base: number): void => {
    if (node === undefined) return;
    const span = 2 ** (shift + BITS);
    if (lo <= base && base + span <= hi) {
      for (let c = 0; c < k; c++) out[c] += node[COUNTS + c] as number;
      return;
    }
    const childSpan = 2 ** shift;
    for (let s = 0; s < WIDTH; s++) {
      const start = base + s * childSpan;
      if (start + childSpan <= lo) continue;
      if (start >= hi) return;
      if (shift > 0) {
        walk(node[s] as Node | undefined, shift - BITS, start);
      } else {
        const v = node[s] as T | undefined;
        const c = v === undefined ? NO_CLASS : classOf(v, start);
        if (c >= 0) out[c]++;
      }
    }
  };
  walk(t.root, t.shift, 0);
}

/**
 * Calls `visit` for every index in [lo, hi) in order, with its value or undefined (within the
 * trie's reach, as for get): a leaf is found once per WIDTH indexes, so a dense range costs
 * O(hi - lo). The journal writes records in slices with it (checkpoints, the archive).
 */
export function forEachInRange<T>(t: Trie<T>, lo: number, hi: number, visit: (v: T | undefined, i: number) => void): void {
  for (let i = lo; i < hi; ) {
    let node = t.root;
    for (let s = t.shift; s > 0 && node !== undefined; s -= BITS) node = node[(i >>> s) & MASK] as Node | undefined;
    const leafEnd = Math.min(hi, (i | MASK) + 1);
    for (; i < leafEnd; i++) visit(node === undefined ? undefined : (node[i & MASK] as T | undefined), i);
  }
}
