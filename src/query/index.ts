/** The query layer: snapshot + task + node + clock → the answers of SPEC §3.2–3.4 and §4. */
export { failedNodeIds, failedNodeInfo, autoRetryStatus } from './failed-nodes.js';
export { taskSummary, taskListItem, taskNodesPage, numericId, type PageLimits } from './overview.js';
export type { TaskSummary, TaskListItem, TaskNodesPage, TaskNodeRow, AttemptRow, Progress, StateCounts } from './overview-types.js';
export { statusTree, statusTreeSlices, type TreeOptions } from './status-tree.js';
export { taskStatusEntrySlices, nodeDetailSlices, type HistoriesPage } from './views.js';
export { shownState } from './derive.js';
export { roundHalfEven, elapsedSeconds } from './elapsed.js';
export { ZonedTimeFormat } from './zoned-format.js';
export { isoUtcText } from './time-text.js';
export type {
  ShownState,
  IdKeyed,
  NodeStatus,
  NodeStatusSummary,
  TaskStatusEntry,
  HistoryEntry,
  NodeDetail,
  FailedNodeInfo,
  AutoRetryStatus,
} from './types.js';
