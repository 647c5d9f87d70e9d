/** The inputs the engine accepts and the registered objects it keeps (SPEC §1). */
import type { NodeKind } from '../lifecycle/index.js';
import type { AutoRetryPolicy, TimeoutPolicy } from './policy.js';

/** One node of a pipeline as an orchestrator registers it. */
export interface NodeDefinition {
  readonly id: string;
  readonly name?: string;
  readonly kind: NodeKind;
  readonly error_ignorable?: boolean;
  /** leaves only: after a failure the engine retries the node itself, up to max_times */
  readonly auto_retry?: AutoRetryPolicy;
  /** leaves only: a node RUNNING this long is forced to fail (and then skipped, if the action says so) */
  readonly timeout?: TimeoutPolicy;
  /** only on `pipeline` and `subprocess` */
  readonly children?: readonly NodeDefinition[];
}

export interface ProjectInput {
  readonly id: string;
  readonly bk_biz_id?: string;
  readonly name: string;
  readonly time_zone?: string;
}

export interface Project {
  readonly id: string;
  /** the CMDB business this project is bound to, or null */
  readonly bk_biz_id: string | null;
  readonly name: string;
  /** IANA time zone name */
  readonly time_zone: string;
}

export interface TaskInput {
  /**
   * a positive integer up to 2^53-1, as digits; absent: the engine assigns one plus the highest
   * id it has ever registered (an assigned id is never reused, even after a deletion)
   */
  readonly id?: string;
  readonly project_id: string;
  readonly name: string;
  readonly pipeline: NodeDefinition;
}

export interface Task {
  readonly id: string;
  readonly project_id: string;
  readonly name: string;
  /** ms since the epoch */
  readonly created_at: number;
}
