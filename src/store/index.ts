/** The store layer: the immutable tree, snapshots, operations and their events. */
export { Store, type StoreOptions, type OperationArgs } from './store.js';
export { Snapshot } from './snapshot.js';
export { recordAt, historyAt, firstActiveDescendant, isActive, type TaskView, type History } from './task-slot.js';
export { forEachInRange } from './trie.js';
export type { NodeChange, TaskCreated, TaskDeleted, EngineEvents, EngineEventName, EngineListener, ListenerErrorHandler } from './events.js';
export { randomVersion, VERSION_PATTERN } from './version.js';
