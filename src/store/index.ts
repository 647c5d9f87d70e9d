/** The store layer: the immutable tree, snapshots, operations and their events. */
export { Store, type StoreOptions, type OperationArgs, type ProjectQuota, type AppliedOperation } from './store.js';
export { Snapshot } from './snapshot.js';
export { recordAt, historyAt, historyPageAt, firstActiveDescendant, isActive, type TaskView, type HistoryPage } from './task-slot.js';
export type { History } from './history.js';
export { rollupAt, progressOf, type Rollup, type StateCounts } from './rollup.js';
export { ALL_STATES, maskOf, type ProjectTaskList, type StateMask } from './task-list-index.js';
export { DEFAULT_STORE_LIMITS, HISTORY_ENTRY_TEXT_BYTES, HISTORIES_ANSWER_BUDGET, type StoreLimits } from './limits.js';
export { DEFAULT_QUOTA, quotasOf, type Quota, type QuotaTable, type Usage } from './quota.js';
export { forEachInRange } from './trie.js';
export type {
  NodeChange,
  TaskCreated,
  TaskDeleted,
  EngineEvents,
  EngineEventName,
  EngineListener,
  ListenerErrorHandler,
} from './events.js';
export { randomVersion, VERSION_PATTERN } from './version.js';
