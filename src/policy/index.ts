/** The policy layer: the engine's own operations (auto_retry, timeout) on its clock. */
export { PolicyScheduler, timeoutMessage, type PolicyStore } from './scheduler.js';
export { systemTimers, type Timers } from './timers.js';
export { ManualClock } from './manual-clock.js';
