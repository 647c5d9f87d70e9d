/**
 * A registered pipeline, compiled once from its nested definition (SPEC §1) into flat arrays in
 * preorder. A subtree is then the contiguous index range [i, end[i]), a node's children are found
 * by hopping over their subtrees, and the runtime records can live in a persistent vector
 * indexed by the same number. The definition never changes once registered, so every snapshot
 * shares it.
 */
import {
  CONTAINER_KINDS,
  CONTEXT_CONTAINER,
  CONTEXT_ERROR_IGNORABLE,
  CONTEXT_ROOT,
  NODE_KINDS,
  type NodeKind,
} from '../lifecycle/index.js';
import { invalid, withArticle } from './errors.js';
import { readPolicy, type NodePolicy } from './policy.js';

export interface DefinitionLimits {
  /** nodes in one task, root included */
  readonly maxNodes: number;
  /** nesting depth; the root is at depth 0 */
  readonly maxDepth: number;
  /** characters in a node name */
  readonly maxNameLength: number;
}

export const DEFAULT_LIMITS: DefinitionLimits = { maxNodes: 2_000_000, maxDepth: 1_000, maxNameLength: 1_000 };

/** Bits of `traits`: the parts of the lifecycle context a definition fixes, in the table's layout. */
export const TRAIT_CONTAINER = CONTEXT_CONTAINER;
export const TRAIT_ROOT = CONTEXT_ROOT;
export const TRAIT_ERROR_IGNORABLE = CONTEXT_ERROR_IGNORABLE;

export interface PipelineDefinition {
  readonly size: number;
  readonly ids: readonly string[];
  readonly names: readonly string[];
  /** index into NODE_KINDS */
  readonly kinds: Uint8Array;
  readonly traits: Uint8Array;
  /** -1 for the root */
  readonly parent: Int32Array;
  /** exclusive end of the node's subtree in preorder */
  readonly end: Int32Array;
  /**
   * The nodes that carry policies (auto_retry, timeout), by preorder index. Empty for most
   * tasks: the policy scheduler looks at a task only when this is not.
   */
  readonly policies: ReadonlyMap<number, NodePolicy>;
  /** preorder index of a node id, -1 when the task has no such node */
  indexOf(id: string): number;
}

const NO_POLICIES: ReadonlyMap<number, NodePolicy> = new Map();

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** project and business ids, and task ids as requests name them */
export const DIGITS_PATTERN = /^[0-9]{1,32}$/;

/** The highest task id: ids are positive integers a JSON number holds exactly. */
export const MAX_TASK_ID = Number.MAX_SAFE_INTEGER;
const TASK_ID_PATTERN = /^[1-9][0-9]{0,15}$/;

/**
 * A task id as the engine registers it: a positive integer up to MAX_TASK_ID, written in digits
 * without leading zeros, so that one number has one spelling and the service can answer it as a
 * JSON number.
 */
export const isTaskId = (id: string): boolean => TASK_ID_PATTERN.test(id) && Number(id) <= MAX_TASK_ID;

export const kindOf = (def: PipelineDefinition, i: number): NodeKind => NODE_KINDS[def.kinds[i]];

/** The direct children of node i, in definition order. */
export function childrenOf(def: PipelineDefinition, i: number): number[] {
  const out: number[] = [];
  for (let c = i + 1, end = def.end[i]; c < end; c = def.end[c]) out.push(c);
  return out;
}

interface Pending {
  readonly node: unknown;
  readonly parent: number;
  /** position among the parent's children */
  readonly position: number;
  readonly depth: number;
}

/** `pipeline.children[2].children[0]`, built only when an error needs it. */
function pathOf(pending: Pending, parents: readonly number[], positions: readonly number[]): string {
  const steps = [pending.position];
  for (let p = pending.parent; p > 0; p = parents[p]) steps.push(positions[p]);
  return pending.parent < 0
    ? 'pipeline'
    : `pipeline${steps
        .reverse()
        .map((c) => `.children[${c}]`)
        .join('')}`;
}

/** The wording of every definition problem, here and in precompiled.ts. */
export function nodeProblem(path: string, id: unknown, field: string, reason: string): string {
  const where = typeof id === 'string' && ID_PATTERN.test(id) ? `${JSON.stringify(id)} (${path})` : path;
  return `node ${where} field ${field}: ${reason}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is wrong with a definition: `node "x" (pipeline.children[2]) field kind: must be …`. */
export class DefinitionProblem extends Error {
  override readonly name = 'DefinitionProblem';
}

/**
 * Validates a nested definition and compiles it. Iterative, so depth is bounded by the limit and
 * not by the call stack. A bad definition throws a PipestateError (3540000) naming the node by
 * its path and id, and the field.
 *
 * `root` may also be a definition compiled elsewhere (a worker thread, see precompiled.ts): it is
 * then checked against `limits` and returned, or its recorded problem is thrown as if found here.
 */
export function compileDefinition(taskId: string, root: unknown, limits: DefinitionLimits = DEFAULT_LIMITS): PipelineDefinition {
  try {
    const stats = PRECOMPILED.get(root as PipelineDefinition);
    if (stats !== undefined) return withinLimits(root as PipelineDefinition, stats, limits);
    const problem = REFUSED.get(root as object);
    if (problem !== undefined) throw new DefinitionProblem(problem);
    return compileNodes(root, limits);
  } catch (error) {
    if (error instanceof DefinitionProblem) throw invalid(`pipeline of task ${taskId}`, error.message);
    throw error;
  }
}

/** compileDefinition without a task to name: a problem is thrown as a DefinitionProblem. */
export function compileNodes(root: unknown, limits: DefinitionLimits): PipelineDefinition {
  const ids: string[] = [];
  const names: string[] = [];
  const kinds: number[] = [];
  const traits: number[] = [];
  const parents: number[] = [];
  const positions: number[] = [];
  const index = new Map<string, number>();
  let policies: Map<number, NodePolicy> | undefined;
  const fail = (at: Pending, id: unknown, field: string, reason: string): never => {
    throw new DefinitionProblem(nodeProblem(pathOf(at, parents, positions), id, field, reason));
  };

  const stack: Pending[] = [{ node: root, parent: -1, position: 0, depth: 0 }];
  while (stack.length > 0) {
    const pending = stack.pop()!;
    const { node, parent, depth } = pending;
    if (!isRecord(node)) fail(pending, undefined, '(node)', 'must be an object');
    const n = node as Record<string, unknown>;
    const id = n.id;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) fail(pending, undefined, 'id', 'must be 1..64 characters of [A-Za-z0-9_-]');
    if (index.has(id as string)) fail(pending, id, 'id', 'is not unique in the task');
    const name = n.name ?? '';
    if (typeof name !== 'string') fail(pending, id, 'name', 'must be a string');
    if ((name as string).length > limits.maxNameLength) fail(pending, id, 'name', `must be at most ${limits.maxNameLength} characters`);
    const kind = n.kind as NodeKind;
    if (!NODE_KINDS.includes(kind)) fail(pending, id, 'kind', `must be one of ${NODE_KINDS.join(', ')}`);
    if ((parent === -1) !== (kind === 'pipeline')) {
      fail(pending, id, 'kind', parent === -1 ? 'the root must be a pipeline' : 'only the root may be a pipeline');
    }
    const ignorable = n.error_ignorable ?? false;
    if (typeof ignorable !== 'boolean') fail(pending, id, 'error_ignorable', 'must be a boolean');
    const children = (n.children ?? []) as unknown[];
    if (!Array.isArray(children)) fail(pending, id, 'children', 'must be an array');
    if (children.length > 0 && !CONTAINER_KINDS.has(kind)) fail(pending, id, 'children', `${withArticle(kind)} has no children`);
    if (children.length > 0 && depth + 1 > limits.maxDepth) fail(pending, id, 'children', `nesting deeper than ${limits.maxDepth}`);
    if (ids.length + 1 + stack.length + children.length > limits.maxNodes) {
      fail(pending, id, 'children', `the task has more than ${limits.maxNodes} nodes`);
    }

    const policy = readPolicy(n, !CONTAINER_KINDS.has(kind), kind, (field, reason) => fail(pending, id, field, reason));

    const i = ids.length;
    if (policy !== undefined) {
      policies ??= new Map();
      policies.set(i, policy);
    }
    index.set(id as string, i);
    ids.push(id as string);
    names.push(name as string);
    kinds.push(NODE_KINDS.indexOf(kind));
    traits.push(
      (CONTAINER_KINDS.has(kind) ? TRAIT_CONTAINER : 0) | (parent === -1 ? TRAIT_ROOT : 0) | (ignorable ? TRAIT_ERROR_IGNORABLE : 0),
    );
    parents.push(parent);
    positions.push(pending.position);
    for (let c = children.length - 1; c >= 0; c--) {
      stack.push({ node: children[c], parent: i, position: c, depth: depth + 1 });
    }
  }

  const size = ids.length;
  const parent = Int32Array.from(parents);
  // In preorder a subtree ends where the next node outside it begins: fold sizes up from the end.
  const end = new Int32Array(size);
  for (let i = 0; i < size; i++) end[i] = i + 1;
  for (let i = size - 1; i > 0; i--) if (end[i] > end[parent[i]]) end[parent[i]] = end[i];
  return Object.freeze({
    size,
    ids,
    names,
    kinds: Uint8Array.from(kinds),
    traits: Uint8Array.from(traits),
    parent,
    end,
    policies: policies ?? NO_POLICIES,
    indexOf: (id: string) => index.get(id) ?? -1,
  });
}

/** What the store's limits are checked against for a definition compiled elsewhere. */
export interface DefinitionStats {
  /** deepest nesting; the root is at depth 0 */
  readonly depth: number;
  /** characters of the longest name */
  readonly longestName: number;
}

const PRECOMPILED = new WeakMap<PipelineDefinition, DefinitionStats>();
const REFUSED = new WeakMap<object, string>();

/**
 * Marks a definition compiled elsewhere (precompiled.ts builds them), so that compileDefinition
 * takes it in place of a nested definition. Only this module's callers can mark: a nested
 * definition that merely looks compiled is compiled like any other.
 */
export function markPrecompiled(def: PipelineDefinition, stats: DefinitionStats): PipelineDefinition {
  PRECOMPILED.set(def, stats);
  return def;
}

/** A stand-in for a definition found wrong elsewhere: compileDefinition refuses it with `problem`. */
export function refusedDefinition(problem: string): object {
  const marker = Object.freeze({});
  REFUSED.set(marker, problem);
  return marker;
}

/** The store's limits, applied to a definition compiled without them; a problem names the first node in preorder. */
function withinLimits(def: PipelineDefinition, stats: DefinitionStats, limits: DefinitionLimits): PipelineDefinition {
  const at = (i: number, field: string, reason: string): never => {
    throw new DefinitionProblem(nodeProblem(compiledPath(def, i), def.ids[i], field, reason));
  };
  if (def.size > limits.maxNodes) at(0, 'children', `the task has more than ${limits.maxNodes} nodes`);
  if (stats.depth > limits.maxDepth) {
    const depth = new Int32Array(def.size);
    for (let i = 1; i < def.size; i++) {
      depth[i] = depth[def.parent[i]] + 1;
      if (depth[i] > limits.maxDepth) at(def.parent[i], 'children', `nesting deeper than ${limits.maxDepth}`);
    }
  }
  if (stats.longestName > limits.maxNameLength) {
    for (let i = 0; i < def.size; i++) {
      if (def.names[i].length > limits.maxNameLength) at(i, 'name', `must be at most ${limits.maxNameLength} characters`);
    }
  }
  return def;
}

/** `pipeline.children[2].children[0]` of node i of a compiled definition. */
function compiledPath(def: PipelineDefinition, i: number): string {
  const steps: number[] = [];
  for (let n = i; def.parent[n] >= 0; n = def.parent[n]) steps.push(childrenOf(def, def.parent[n]).indexOf(n));
  return `pipeline${steps
    .reverse()
    .map((c) => `.children[${c}]`)
    .join('')}`;
}
