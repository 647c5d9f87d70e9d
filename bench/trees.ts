/**
 * Pipeline definitions for the benchmarks, and a flat preorder view of them that the workloads
 * use to pick nodes. The flat view is computed here, not by src/model, so that the operation
 * sequences do not depend on the code being measured.
 */
import type { NodeDefinition } from '../src/model/index.js';

export interface FlatTree {
  readonly size: number;
  readonly ids: readonly string[];
  /** -1 for the root */
  readonly parent: Int32Array;
  /** exclusive end of the node's subtree in preorder */
  readonly end: Int32Array;
  readonly container: Uint8Array;
  /** preorder indices of the leaves */
  readonly leaves: Int32Array;
  /** preorder index of a subprocess at depth 3 (or the deepest one), for subtree queries */
  readonly deepSubprocess: number;
}

export interface Tree {
  /** what the tables print: `nested 10^4 (fan-out 10, depth 4)` */
  readonly label: string;
  readonly definition: NodeDefinition;
  readonly flat: FlatTree;
}

// A handful of names shared by every node: names are not what is being measured, and shared
// strings keep them from dominating the heap figures of both pipestate and the floor.
const NAMES = ['Run script', 'Approve', 'Notify', 'Fast execute', 'Transfer files', 'Check host', 'Wait', 'Rollback'];

/** bk-sops node ids are `n` + 31 hex chars; short ids are used so the memory ratios are not padded by strings both sides hold. */
const idOf = (i: number): string => `n${i.toString(36)}`;

export interface NestedShape {
  readonly nodes: number;
  /** children of the root and of every subprocess above the deepest level */
  readonly fanOut: number;
  /** depth of the leaves; subprocesses nest depth - 1 levels deep (root at depth 0) */
  readonly depth: number;
}

/**
 * A root pipeline whose containers branch `fanOut` ways down to depth - 1, and whose deepest
 * subprocesses share the remaining nodes as leaves, so the node count is exact. Each deepest
 * subprocess opens and closes with an event and has a gateway in its middle, like a flow.
 */
export function nestedPipeline(shape: NestedShape): Tree {
  const { nodes, fanOut, depth } = shape;
  let containers = 0;
  for (let l = 0; l < depth; l++) containers += fanOut ** l;
  const deepest = fanOut ** (depth - 1);
  const leafCount = nodes - containers;
  if (depth < 2 || leafCount < deepest) throw new Error(`no nested pipeline of ${nodes} nodes with fan-out ${fanOut} and depth ${depth}`);
  let next = 0;
  let deepestSeen = 0;
  const build = (level: number): NodeDefinition => {
    const id = idOf(next++);
    const name = NAMES[next % NAMES.length];
    if (level === depth - 1) {
      const k = deepestSeen++;
      const n = Math.floor(leafCount / deepest) + (k < leafCount % deepest ? 1 : 0);
      const children: NodeDefinition[] = [];
      for (let c = 0; c < n; c++) {
        const kind = c === 0 || c === n - 1 ? 'event' : c === n >> 1 ? 'gateway' : 'activity';
        children.push({ id: idOf(next++), name: NAMES[next % NAMES.length], kind });
      }
      return { id, name, kind: 'subprocess', children };
    }
    const children: NodeDefinition[] = [];
    for (let c = 0; c < fanOut; c++) children.push(build(level + 1));
    return { id, name, kind: level === 0 ? 'pipeline' : 'subprocess', children };
  };
  const definition = build(0);
  return { label: `nested ${pow10(nodes)} (fan-out ${fanOut}, depth ${depth})`, definition, flat: flatten(definition) };
}

/**
 * A flow whose parallel gateway opens `branches` branches that a converging gateway joins:
 * every branch is a direct child of the root, the case where copying a parent's children per
 * update would cost O(branches).
 */
export function widePipeline(branches: number): Tree {
  let next = 0;
  const node = (kind: NodeDefinition['kind']): NodeDefinition => ({ id: idOf(next++), name: NAMES[next % NAMES.length], kind });
  const root = idOf(next++);
  const children = [node('event'), node('gateway')];
  for (let b = 0; b < branches; b++) children.push(node('activity'));
  children.push(node('gateway'), node('event'));
  const definition: NodeDefinition = { id: root, name: 'wide', kind: 'pipeline', children };
  return { label: `wide ${pow10(branches)} branches`, definition, flat: flatten(definition) };
}

/** `10^5` for powers of ten, the number otherwise. */
export function pow10(n: number): string {
  const e = Math.log10(n);
  return Number.isInteger(e) ? `10^${e}` : String(n);
}

export function flatten(root: NodeDefinition): FlatTree {
  const ids: string[] = [];
  const parents: number[] = [];
  const depths: number[] = [];
  const containers: number[] = [];
  const stack: { node: NodeDefinition; parent: number; depth: number }[] = [{ node: root, parent: -1, depth: 0 }];
  while (stack.length > 0) {
    const { node, parent, depth } = stack.pop()!;
    const i = ids.length;
    ids.push(node.id);
    parents.push(parent);
    depths.push(depth);
    const isContainer = node.kind === 'pipeline' || node.kind === 'subprocess';
    containers.push(isContainer ? 1 : 0);
    const children = node.children ?? [];
    for (let c = children.length - 1; c >= 0; c--) stack.push({ node: children[c], parent: i, depth: depth + 1 });
  }
  const size = ids.length;
  const parent = Int32Array.from(parents);
  const end = new Int32Array(size);
  for (let i = 0; i < size; i++) end[i] = i + 1;
  for (let i = size - 1; i > 0; i--) if (end[i] > end[parent[i]]) end[parent[i]] = end[i];
  const leaves = Int32Array.from(containers.flatMap((c, i) => (c ? [] : [i])));
  let deep = 0;
  for (let i = 0; i < size; i++) {
    if (containers[i] && depths[i] <= 3 && depths[i] > depths[deep]) deep = i;
  }
  return { size, ids, parent, end, container: Uint8Array.from(containers), leaves, deepSubprocess: deep };
}
