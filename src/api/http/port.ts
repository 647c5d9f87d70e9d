/**
 * What the HTTP adapter needs from the engine, as a structural type: the Engine of
 * `src/api/engine.ts` satisfies it, and the adapter depends on nothing else of the engine's.
 */
import type { Store } from '../../store/index.js';
import type { Engine } from '../engine.js';
import type { Envelope, RequestContext } from '../types.js';

/** An in-process API of SPEC §3–4: request in, envelope out, never throws. */
export type ApiMethod = (request: unknown, ctx?: RequestContext) => Envelope<unknown> | Promise<Envelope<unknown>>;

export interface EnginePort extends Pick<Store, 'createTask' | 'apply' | 'snapshot' | 'on' | 'off' | 'cursor' | 'durable'>,
  Pick<Engine, 'storageStatus' | 'recentChanges'> {
  readonly getTaskStatus: ApiMethod;
  readonly getTasksStatus: ApiMethod;
  readonly getTaskNodeDetail: ApiMethod;
  readonly operateTask: ApiMethod;
  readonly operateNode: ApiMethod;
}
