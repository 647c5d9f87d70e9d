/**
 * Every error pipestate raises, in one place. Codes are the envelope codes of SPEC §3.5, so an
 * error thrown deep in the store can be answered to a client without translation.
 */
import type { MachineOperation, State } from '../lifecycle/index.js';

export const ERROR_CODES = {
  invalid: 3540000,
  unauthenticated: 3540100,
  notFound: 3540400,
  refused: 3545000,
  unexpected: 3599999,
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class PipestateError extends Error {
  override readonly name = 'PipestateError';
  constructor(readonly code: ErrorCode, message: string, readonly field?: string) {
    super(message);
  }
}

/** "an activity", "a subprocess": messages name kinds with their article. */
export const withArticle = (word: string): string => `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;

export const invalid = (field: string, reason: string): PipestateError =>
  new PipestateError(ERROR_CODES.invalid, `invalid ${field}: ${reason}`, field);

export const notFound = (message: string): PipestateError => new PipestateError(ERROR_CODES.notFound, message);

/** `cannot retry node n2 of task 10: state is RUNNING, retry needs FAILED` */
export const refused = (
  op: MachineOperation, taskId: string, nodeId: string, state: State, why: string,
): PipestateError =>
  new PipestateError(ERROR_CODES.refused, `cannot ${op} node ${nodeId} of task ${taskId}: state is ${state}, ${why}`);

export const unknownTask = (taskId: string): PipestateError => notFound(`task ${taskId} does not exist`);
export const unknownNode = (taskId: string, nodeId: string): PipestateError =>
  notFound(`node ${nodeId} does not exist in task ${taskId}`);
export const unknownProject = (projectId: string): PipestateError => notFound(`project ${projectId} does not exist`);
export const unboundBusiness = (bizId: string): PipestateError => notFound(`no project is bound to business ${bizId}`);
/** The caller is authenticated but its app may not see this project. */
export const hiddenProject = (scope: 'project' | 'cmdb_biz', id: string): PipestateError =>
  new PipestateError(ERROR_CODES.unauthenticated, `you may not see the project of ${scope === 'project' ? 'id' : 'business'} ${id}`);
