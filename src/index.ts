/** pipestate: the public API (SPEC §5). Everything else is internal. */
export { createEngine, Engine, type EngineOptions, type StorageStatus } from './api/engine.js';
export { openEngine, DurableEngine, StoredQueries, type DurableEngineOptions } from './api/durable-engine.js';
export {
  Snapshot,
  DEFAULT_STORE_LIMITS,
  DEFAULT_QUOTA,
  type StoreOptions,
  type OperationArgs,
  type NodeChange,
  type TaskCreated,
  type TaskDeleted,
  type HistoryPage,
  type StoreLimits,
  type Quota,
  type QuotaTable,
  type Usage,
  type ProjectQuota,
} from './store/index.js';
export {
  JournalError,
  DURABILITY_MODES,
  type DurabilityMode,
  type RecoveryReport,
  type CheckpointReport,
  type SweepReport,
  type RetentionOptions,
  type CheckpointOptions,
  type JournalStatus,
  type JournalPort,
} from './store/journal/index.js';
export { PipestateError, ERROR_CODES, type ErrorCode } from './model/index.js';
export type {
  NodeDefinition,
  ProjectInput,
  Project,
  TaskInput,
  Task,
  AutoRetryPolicy,
  TimeoutPolicy,
  TimeoutAction,
} from './model/index.js';
export type { NodeRecord, Json, State, Operation, EngineOperation, NodeKind } from './lifecycle/index.js';
export { ManualClock, type Timers } from './policy/index.js';
export type { Envelope, RequestContext } from './api/types.js';
export type {
  Scope,
  TaskAction,
  NodeAction,
  IdInput,
  FlagInput,
  CountInput,
  GetTaskStatusRequest,
  GetTasksStatusRequest,
  GetTaskNodeDetailRequest,
  OperateTaskRequest,
  OperateNodeRequest,
} from './api/requests.js';
export type { OperationResult, ChangedNode } from './api/commands.js';
export type { GetTaskSummaryRequest, GetTaskListRequest, GetTaskNodesRequest } from './api/overview-requests.js';
export type {
  ShownState,
  IdKeyed,
  NodeStatus,
  NodeStatusSummary,
  TaskStatusEntry,
  NodeDetail,
  HistoryEntry,
  FailedNodeInfo,
  AutoRetryStatus,
  TaskSummary,
  TaskListItem,
  TaskNodesPage,
  TaskNodeRow,
  AttemptRow,
  Progress,
  StateCounts,
} from './query/index.js';
export {
  openSharedEngine,
  SharedEngine,
  type SharedEngineOptions,
  type NewTaskInput,
  type SharedStatus,
  type BootReport,
} from './api/shared-engine.js';
export { createServer, PipestateServer, type ServerOptions } from './api/http/server.js';
export { withStoredAnswers } from './api/http/stored-port.js';
export { createHandler, type HandlerOptions, type PipestateHandler, type Logger, type Next } from './api/http/handler.js';
export { loadConfig, parseConfig, resolveConfig, ConfigError, type ServiceConfig, type AppConfig } from './api/http/config.js';
