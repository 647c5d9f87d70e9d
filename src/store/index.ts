/** The store layer: the immutable tree, snapshots, operations and their events. */
export { Store, type StoreOptions, type OperationArgs } from './store.js';
export { Snapshot } from './snapshot.js';
export { recordAt, historyAt, firstActiveDescendant, isActive, type TaskView, type History } from './task-slot.js';
export { forEachInRange } from './trie.js';
export { recentHistoryAt, type RecentHistory } from './recent-history.js';
export { rollupAt, progressOf, type Rollup, type StateCounts } from './rollup.js';
export { ALL_STATES, maskOf, type ProjectTaskList, type StateMask } from './task-list-index.js';
export type { NodeChange, TaskCreated, EngineEvents, EngineEventName, EngineListener, ListenerErrorHandler } from './events.js';
export { randomVersion, VERSION_PATTERN } from './version.js';
