/**
 * Commands answer once their change is durable. A request that changed the engine (its cursor
 * moved while it ran) waits for the journal before its answer leaves; if the journal could not
 * write the change, the change was undone and the answer is the refusal (3599999 "journal
 * unavailable") instead. Over an in-memory engine `durable()` resolves at once.
 */
import { PipestateError } from '../../model/index.js';
import { failure } from '../envelope.js';
import type { Envelope, RequestContext } from '../types.js';
import type { EnginePort } from './port.js';

export async function acknowledged(
  engine: EnginePort,
  cursorBefore: number,
  envelope: Envelope<unknown>,
  ctx: RequestContext,
): Promise<Envelope<unknown>> {
  if (!envelope.result || engine.cursor === cursorBefore) return envelope;
  try {
    await engine.durable();
    return envelope;
  } catch (error) {
    if (error instanceof PipestateError) return failure(error.code, error.message, ctx);
    throw error;
  }
}

/** What /healthz says about storage: memory, or the data directory, the mode and the journal's state. */
export function health(engine: EnginePort): Record<string, unknown> {
  const s = engine.storageStatus();
  if (s.storage === 'memory') return { status: 'ok', storage: 'memory (nothing survives a restart)' };
  return { status: s.journal === 'ok' ? 'ok' : 'read-only', storage: s.data_dir, durability: s.durability, journal: s.journal };
}
