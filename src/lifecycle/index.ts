/** The lifecycle layer: imports nothing of ours. */
export * from './states.js';
export * from './record.js';
export { lifecycleMachine, ANCESTOR_CONDITIONS, type AncestorCondition, type LifecycleContext, type LifecycleEvent } from './machine.js';
export {
  nextStateCode,
  REFUSED,
  diagnose,
  contextCode,
  contextOf,
  machineNext,
  type Refusal,
  CONTEXT_CONTAINER,
  CONTEXT_ROOT,
  CONTEXT_ERROR_IGNORABLE,
  CONTEXT_AT_RERUN_LIMIT,
} from './table.js';
export { EFFECTS, endsAttempt, rerunLimitMessage, type EffectInput } from './effects.js';
