/**
 * Every error pipestate raises, in one place. Codes are the envelope codes of SPEC §3.5, so an
 * error thrown deep in the store can be answered to a client without translation.
 */
import type { MachineOperation, State } from '../lifecycle/index.js';

export const ERROR_CODES = {
  invalid: 3540000,
  unauthenticated: 3540100,
  notFound: 3540400,
  /**
   * over a project's quota (docs/service-limits.md). bk-sops has no such code; this one follows
   * its scheme, "35" then the HTTP status times 100: 429 Too Many Requests.
   */
  quotaExceeded: 3542900,
  refused: 3545000,
  unexpected: 3599999,
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class PipestateError extends Error {
  override readonly name = 'PipestateError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** "an activity", "a subprocess": messages name kinds with their article. */
export const withArticle = (word: string): string => `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;

export const invalid = (field: string, reason: string): PipestateError =>
  new PipestateError(ERROR_CODES.invalid, `invalid ${field}: ${reason}`, field);

export const notFound = (message: string): PipestateError => new PipestateError(ERROR_CODES.notFound, message);

/** `cannot retry node n2 of task 10: state is RUNNING, retry needs FAILED` */
export const refused = (op: MachineOperation, taskId: string, nodeId: string, state: State, why: string): PipestateError =>
  new PipestateError(ERROR_CODES.refused, `cannot ${op} node ${nodeId} of task ${taskId}: state is ${state}, ${why}`);

/** `cannot delete task 10: its root r is RUNNING, delete needs CREATED, FINISHED or REVOKED` */
export const undeletable = (taskId: string, rootId: string, state: State): PipestateError =>
  new PipestateError(
    ERROR_CODES.refused,
    `cannot delete task ${taskId}: its root ${rootId} is ${state}, delete needs CREATED, FINISHED or REVOKED`,
  );

/** The task vector is full: only reached after 2^31 - 1 registrations in one process. */
export const registrationsExhausted = (max: number): PipestateError =>
  new PipestateError(ERROR_CODES.refused, `cannot register a task: this engine has registered its maximum of ${max} tasks`);

export const unknownTask = (taskId: string): PipestateError => notFound(`task ${taskId} does not exist`);
export const unknownNode = (taskId: string, nodeId: string): PipestateError => notFound(`node ${nodeId} does not exist in task ${taskId}`);
export const unknownProject = (projectId: string): PipestateError => notFound(`project ${projectId} does not exist`);
export const unboundBusiness = (bizId: string): PipestateError => notFound(`no project is bound to business ${bizId}`);
/**
 * `quota maxNodes of project 1 would be exceeded: 9000 of 10000 in use, task 12 adds 3000`: names
 * the quota, the project, the limit, what is in use and what the refused change would add.
 */
export const quotaExceeded = (quota: string, projectId: string, limit: number, inUse: number, adding: string): PipestateError =>
  new PipestateError(
    ERROR_CODES.quotaExceeded,
    `quota ${quota} of project ${projectId} would be exceeded: ${inUse} of ${limit} in use, ${adding}; delete archived tasks or raise the quota`,
  );

/** The caller is authenticated but its app may not see this project. */
export const hiddenProject = (scope: 'project' | 'cmdb_biz', id: string): PipestateError =>
  new PipestateError(ERROR_CODES.unauthenticated, `you may not see the project of ${scope === 'project' ? 'id' : 'business'} ${id}`);
