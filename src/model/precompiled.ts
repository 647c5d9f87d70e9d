/**
 * Definitions compiled away from the thread that registers them. Parsing the JSON of a
 * 10^5-node definition takes ~40 ms and compiling it ~100 ms (10^6 nodes: ~2 s): a service does
 * both in a worker thread, so its event loop stays free for everyone else.
 *
 * The worker sends the compiled definition packed: its typed arrays (transferred, not copied) and
 * its ids and names as one string each with end offsets (one string crosses threads as one copy;
 * 10^5 small strings would be 10^5 objects to clone). The receiving side unpacks it in slices
 * (rebuilding the id index is the costly part) and hands the result to the store in place of the
 * nested definition: compileDefinition recognises it (markPrecompiled) and checks it against the
 * store's limits. A definition the worker found wrong travels as its problem
 * (refusedDefinition), refused by the store in the usual words, naming the task.
 */
import { markPrecompiled, type PipelineDefinition } from './definition.js';
import type { NodePolicy } from './policy.js';
import { NODES_PER_SLICE, type Slices } from './slices.js';

export interface PackedDefinition {
  readonly size: number;
  /** every id, one after the other; id i ends at idEnds[i] */
  readonly ids: string;
  readonly idEnds: Uint32Array;
  readonly names: string;
  readonly nameEnds: Uint32Array;
  readonly kinds: Uint8Array;
  readonly traits: Uint8Array;
  readonly parent: Int32Array;
  readonly end: Int32Array;
  /** the nodes' auto_retry and timeout policies, by preorder index (a Map clones across threads; most tasks have none) */
  readonly policies: ReadonlyMap<number, NodePolicy>;
}

/** The packed form, and the buffers to transfer with it (postMessage's transfer list). */
export function packDefinition(def: PipelineDefinition): { packed: PackedDefinition; transfer: ArrayBuffer[] } {
  const joined = (strings: readonly string[]): { text: string; ends: Uint32Array } => {
    const ends = new Uint32Array(strings.length);
    let at = 0;
    for (let i = 0; i < strings.length; i++) ends[i] = at += strings[i].length;
    return { text: strings.join(''), ends };
  };
  const ids = joined(def.ids);
  const names = joined(def.names);
  // Copies: the definition's own arrays stay usable on this side.
  const packed: PackedDefinition = {
    size: def.size,
    ids: ids.text,
    idEnds: ids.ends,
    names: names.text,
    nameEnds: names.ends,
    kinds: def.kinds.slice(),
    traits: def.traits.slice(),
    parent: def.parent.slice(),
    end: def.end.slice(),
    policies: new Map(def.policies),
  };
  const transfer = [packed.idEnds, packed.nameEnds, packed.kinds, packed.traits, packed.parent, packed.end].map(
    (a) => a.buffer as ArrayBuffer,
  );
  return { packed, transfer };
}

/** Nodes unpacked between two checkpoints: each costs two slices and one map insertion. */
const UNPACK_PER_SLICE = NODES_PER_SLICE * 8;

/** Rebuilds the definition from its packed form, in slices; the result is marked precompiled. */
export function* unpackDefinition(p: PackedDefinition): Slices<PipelineDefinition> {
  const { size } = p;
  const lengths = [p.idEnds.length, p.nameEnds.length, p.kinds.length, p.traits.length, p.parent.length, p.end.length];
  if (!Number.isSafeInteger(size) || size < 1 || lengths.some((n) => n !== size))
    throw new TypeError('a packed definition whose arrays disagree on its size');
  const ids = new Array<string>(size);
  const names = new Array<string>(size);
  const index = new Map<string, number>();
  const depth = new Int32Array(size);
  let deepest = 0;
  let longestName = 0;
  for (let i = 0, idFrom = 0, nameFrom = 0; i < size; i++) {
    if (i % UNPACK_PER_SLICE === UNPACK_PER_SLICE - 1) yield;
    ids[i] = p.ids.slice(idFrom, p.idEnds[i]);
    idFrom = p.idEnds[i];
    names[i] = p.names.slice(nameFrom, p.nameEnds[i]);
    nameFrom = p.nameEnds[i];
    index.set(ids[i], i);
    if (i > 0) {
      depth[i] = depth[p.parent[i]] + 1;
      if (depth[i] > deepest) deepest = depth[i];
    }
    if (names[i].length > longestName) longestName = names[i].length;
  }
  const def: PipelineDefinition = Object.freeze({
    size,
    ids,
    names,
    kinds: p.kinds,
    traits: p.traits,
    parent: p.parent,
    end: p.end,
    policies: new Map([...p.policies].map(([i, policy]) => [i, Object.freeze({ ...policy })])),
    indexOf: (id: string) => index.get(id) ?? -1,
  });
  return markPrecompiled(def, { depth: deepest, longestName });
}
