/**
 * The request/response boundary shared by the in-process API (engine.getTaskStatus and friends)
 * and the HTTP adapter: the envelope of SPEC §3.5 and the per-request context.
 */
import type { Project } from '../model/index.js';

/** SPEC §3.5, keys in this order. */
export interface Envelope<T> {
  readonly result: boolean;
  readonly data: T | null;
  readonly code: number;
  readonly message: string;
  readonly request_id: string;
  readonly trace_id: string;
}

/** What the transport knows about one request; every field is optional in process. */
export interface RequestContext {
  /** default: a new 32-hex id */
  readonly request_id?: string;
  /** from a W3C traceparent header; default: a new 32-hex id */
  readonly trace_id?: string;
  /**
   * May the caller see this project? When it answers false the request is refused with 3540100.
   * Default: every project.
   */
  readonly canSee?: (project: Project) => boolean;
}
