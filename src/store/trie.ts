/**
 * A persistent vector: a 32-way trie whose nodes are shared between versions. Writing one slot
 * copies the path to it (at most 7 arrays of 34 for 2^30 slots), never a wide object, so the
 * cost of a write does not grow with the number of siblings or the size of the vector.
 *
 * Transient edits: every node remembers the edit token it was created under. A write under the
 * same token changes that node in place, since no snapshot can see it yet; the engine starts a
 * new token whenever it hands out a snapshot, and from then on the nodes that snapshot holds are
 * copied before they change. This is Clojure's transient/persistent pairing: a run of operations
 * with no snapshot between them shares one path copy.
 *
 * Each node also counts the weighted values beneath it (the caller says what a write adds or
 * removes), so "is any value in [lo, hi) weighted?" skips whole empty subtrees.
 */

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
const EDIT = WIDTH;
const COUNT = WIDTH + 1;

/** An edit token: identity is all that matters. */
export type Edit = object;

/** slots 0..31: children (inner) or values (leaf); 32: the edit token; 33: weighted count */
type Node = unknown[];

export interface Trie<T> {
  readonly root: Node | undefined;
  /** bits to shift an index by at the root; 0 when the root is a leaf */
  readonly shift: number;
  /** phantom: the value type */
  readonly _values?: T;
}

const TEMPLATE: Node = Array.from({ length: WIDTH + 2 }, () => undefined);

function freshNode(edit: Edit): Node {
  const n = TEMPLATE.slice();
  n[EDIT] = edit;
  n[COUNT] = 0;
  return n;
}

function editable(node: Node | undefined, edit: Edit): Node {
  if (node === undefined) return freshNode(edit);
  if (node[EDIT] === edit) return node;
  const n = node.slice();
  n[EDIT] = edit;
  return n;
}

/** Index i fits without growing. Indexes are below 2^31, so a 35-bit capacity holds them all. */
const fits = (t: Trie<unknown>, i: number): boolean => t.shift + BITS >= 31 || i >>> (t.shift + BITS) === 0;

/** An empty vector with room for `size` values without growing. */
export function emptyTrie<T>(size = 0): Trie<T> {
  let shift = 0;
  while (2 ** (shift + BITS) < size) shift += BITS;
  return { root: undefined, shift };
}

export function get<T>(t: Trie<T>, i: number): T | undefined {
  let node = t.root;
  for (let s = t.shift; s > 0 && node !== undefined; s -= BITS) node = node[(i >>> s) & MASK] as Node | undefined;
  return node === undefined ? undefined : (node[i & MASK] as T | undefined);
}

function setIn(node: Node | undefined, shift: number, i: number, value: unknown, edit: Edit, delta: number): Node {
  const n = editable(node, edit);
  (n[COUNT] as number) += delta;
  const slot = (i >>> shift) & MASK;
  n[slot] = shift === 0 ? value : setIn(n[slot] as Node | undefined, shift - BITS, i, value, edit, delta);
  return n;
}

/**
 * Writes slot i under an edit token. `delta` is the change in the weighted count (+1 when a
 * weighted value replaces an unweighted one, and so on). Returns the same Trie object when the
 * root was changed in place.
 */
export function set<T>(t: Trie<T>, i: number, value: T, edit: Edit, delta = 0): Trie<T> {
  let trie = t;
  while (!fits(trie, i)) {
    const root = trie.root === undefined ? undefined : freshNode(edit);
    if (root) { root[0] = trie.root; root[COUNT] = trie.root![COUNT]; }
    trie = { root, shift: trie.shift + BITS };
  }
  const root = setIn(trie.root, trie.shift, i, value, edit, delta);
  return root === trie.root ? trie : { root, shift: trie.shift };
}

function unsetIn(node: Node, shift: number, i: number, edit: Edit): Node | undefined {
  if (node[COUNT] === 1) return undefined; // the only value beneath: the whole node goes
  const n = editable(node, edit);
  (n[COUNT] as number) -= 1;
  const slot = (i >>> shift) & MASK;
  n[slot] = shift === 0 ? undefined : unsetIn(n[slot] as Node, shift - BITS, i, edit);
  return n;
}

/**
 * Clears slot i of a vector in which every value is weighted (written with delta 1), dropping
 * every node left without a value, so that a vector of tasks keeps nothing of the ones removed
 * from it: its size follows the live values, not every value it ever held.
 */
export function unset<T>(t: Trie<T>, i: number, edit: Edit): Trie<T> {
  if (get(t, i) === undefined) return t;
  return { root: unsetIn(t.root!, t.shift, i, edit), shift: t.shift };
}

/**
 * Calls `visit` for every weighted value with an index in [lo, hi), in index order, skipping
 * subtrees that hold none; stops early when `visit` returns true. `isWeighted` tells a weighted
 * value from an unweighted one in a leaf.
 */
export function visitWeighted<T>(
  t: Trie<T>, lo: number, hi: number, isWeighted: (v: T) => boolean, visit: (v: T, i: number) => boolean | void,
): void {
  const walk = (node: Node | undefined, shift: number, base: number): boolean => {
    if (node === undefined || node[COUNT] === 0) return false;
    const span = 2 ** shift;
    for (let s = 0; s < WIDTH; s++) {
      const start = base + s * span;
      if (start + span <= lo) continue;
      if (start >= hi) return false;
      if (shift === 0) {
        const v = node[s] as T | undefined;
        if (v !== undefined && isWeighted(v) && visit(v, start)) return true;
      } else if (walk(node[s] as Node | undefined, shift - BITS, start)) return true;
    }
    return false;
  };
  walk(t.root, t.shift, 0);
}
