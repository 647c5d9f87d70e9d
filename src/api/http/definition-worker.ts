/**
 * The worker thread of definition-parser.ts: parses a create_task body and compiles its pipeline,
 * off the service's event loop. In: `{ id, body }` (the raw bytes, transferred). Out: `{ id,
 * params }` (the body's other fields) with `pipeline` packed, or the problem found in it; or
 * `{ id, failure: 'json' | 'object' }` when the body is not a JSON object.
 */
import { parentPort } from 'node:worker_threads';
import { DefinitionProblem, compileNodes, packDefinition, type PackedDefinition } from '../../model/index.js';

export interface ParseRequest {
  readonly id: number;
  readonly body: Uint8Array;
}

export type ParseReply =
  | { readonly id: number; readonly failure: 'json' | 'object' }
  | {
      readonly id: number;
      readonly params: Record<string, unknown>;
      /** absent when the body has no pipeline (or it is null): create_task says it is required */
      readonly pipeline?: { readonly packed: PackedDefinition } | { readonly problem: string };
    };

// The store checks its own limits on the result; the body's size bounds the work here.
const UNLIMITED = { maxNodes: Infinity, maxDepth: Infinity, maxNameLength: Infinity };

function parse({ id, body }: ParseRequest): { reply: ParseReply; transfer: ArrayBuffer[] } {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { reply: { id, failure: 'json' }, transfer: [] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { reply: { id, failure: 'object' }, transfer: [] };
  const { pipeline, ...params } = value as Record<string, unknown>;
  if (pipeline === undefined || pipeline === null) return { reply: { id, params }, transfer: [] };
  try {
    const { packed, transfer } = packDefinition(compileNodes(pipeline, UNLIMITED));
    return { reply: { id, params, pipeline: { packed } }, transfer };
  } catch (error) {
    if (error instanceof DefinitionProblem) return { reply: { id, params, pipeline: { problem: error.message } }, transfer: [] };
    throw error;
  }
}

parentPort?.on('message', (request: ParseRequest) => {
  const { reply, transfer } = parse(request);
  parentPort!.postMessage(reply, transfer);
});
