/** pipestate: the public API (SPEC §5). Everything else is internal. */
export { createEngine, Engine, type EngineOptions } from './api/engine.js';
export {
  Snapshot, DEFAULT_STORE_LIMITS, DEFAULT_QUOTA, type StoreOptions, type OperationArgs, type NodeChange, type TaskCreated,
  type TaskDeleted, type HistoryPage, type StoreLimits, type Quota, type QuotaTable, type Usage, type ProjectQuota,
} from './store/index.js';
export { PipestateError, ERROR_CODES, type ErrorCode } from './model/index.js';
export type {
  NodeDefinition, ProjectInput, Project, TaskInput, Task, AutoRetryPolicy, TimeoutPolicy, TimeoutAction,
} from './model/index.js';
export type { NodeRecord, Json, State, Operation, EngineOperation, NodeKind } from './lifecycle/index.js';
export { ManualClock, type Timers } from './policy/index.js';
export type { Envelope, RequestContext } from './api/types.js';
export type {
  Scope, TaskAction, NodeAction, IdInput, FlagInput, CountInput, GetTaskStatusRequest, GetTasksStatusRequest,
  GetTaskNodeDetailRequest, OperateTaskRequest, OperateNodeRequest,
} from './api/requests.js';
export type { OperationResult, ChangedNode } from './api/commands.js';
export type { GetTaskSummaryRequest, GetTaskListRequest, GetTaskNodesRequest } from './api/overview-requests.js';
export type {
  ShownState, IdKeyed, NodeStatus, NodeStatusSummary, TaskStatusEntry, NodeDetail, HistoryEntry,
  FailedNodeInfo, AutoRetryStatus, TaskSummary, TaskListItem, TaskNodesPage, TaskNodeRow, AttemptRow, Progress, StateCounts,
} from './query/index.js';
export { createServer, PipestateServer, type ServerOptions } from './api/http/server.js';
export { createHandler, type HandlerOptions, type PipestateHandler, type Logger, type Next } from './api/http/handler.js';
export { loadConfig, parseConfig, resolveConfig, ConfigError, type ServiceConfig, type AppConfig } from './api/http/config.js';
