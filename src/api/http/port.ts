/**
 * What the HTTP adapter needs from the engine, as a structural type: the Engine of
 * `src/api/engine.ts` satisfies it, and the adapter depends on nothing else of the engine's.
 */
import type { Slices } from '../../model/index.js';
import type { Store } from '../../store/index.js';
import type { Engine } from '../engine.js';
import type { Envelope, RequestContext } from '../types.js';
import type { Params } from './body.js';

/** An in-process API of SPEC §3–4: request in, envelope out, never throws. */
export type ApiMethod = (request: unknown, ctx?: RequestContext) => Envelope<unknown> | Promise<Envelope<unknown>>;

/** The same, as work in slices (model/slices.ts): what the service runs for large answers. */
export type SlicedApiMethod = (request: unknown, ctx?: RequestContext) => Slices<Envelope<unknown>>;

export interface EnginePort
  extends Pick<Store, 'createTask' | 'deleteTask' | 'apply' | 'snapshot' | 'on' | 'off' | 'cursor' | 'durable'>,
    Pick<Engine, 'storageStatus' | 'recentChanges'> {
  readonly getTaskStatus: ApiMethod;
  readonly getTasksStatus: ApiMethod;
  readonly getTaskNodeDetail: ApiMethod;
  readonly operateTask: ApiMethod;
  readonly operateNode: ApiMethod;
  readonly getTaskSummary: ApiMethod;
  readonly getTaskList: ApiMethod;
  readonly getTaskNodes: ApiMethod;
  readonly getTaskStatusSliced: SlicedApiMethod;
  readonly getTasksStatusSliced: SlicedApiMethod;
  readonly getTaskNodeDetailSliced: SlicedApiMethod;
  /**
   * A shared engine (several instances on one database) runs the HTTP commands through its
   * journal: it answers them, running `run` as the decision; undefined for a route that is not a
   * command. An in-process engine has no such hook: routes run as they are.
   */
  readonly command?: (
    route: string,
    params: Params,
    ctx: RequestContext,
    run: (engine: EnginePort) => Envelope<unknown> | Promise<Envelope<unknown>>,
  ) => Promise<Envelope<unknown>> | undefined;
  /** Resolves once the engine reflects `cursor` (a shared engine waits, bounded, then refuses). */
  readonly reflect?: (cursor: number) => Promise<void>;
  /** Headers every API answer carries (a shared engine: its cursor, and how stale when the journal is unreachable). */
  readonly answerHeaders?: () => ReadonlyMap<string, string>;
}
