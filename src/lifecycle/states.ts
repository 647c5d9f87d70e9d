/**
 * The vocabulary of the node lifecycle (SPEC §2): states, operations, node kinds.
 * Plain string unions for the public surface, small integer codes for the dense table.
 */

export const STATES = ['CREATED', 'READY', 'RUNNING', 'SUSPENDED', 'FINISHED', 'FAILED', 'REVOKED'] as const;
export type State = (typeof STATES)[number];

/** States in which a node still holds its flow open: a container cannot finish over them. */
export const ACTIVE: ReadonlySet<State> = new Set<State>(['RUNNING', 'READY', 'SUSPENDED']);

/**
 * The operations an orchestrator or a client may ask for. `revoke_cascade` is not one of them:
 * it is how the root's revoke reaches each active descendant, and it is in the machine so that
 * the descendant's move is checked like any other.
 */
export const OPERATIONS = [
  'start',
  'finish',
  'fail',
  'forced_fail',
  'pause',
  'resume',
  'retry',
  'skip',
  'reenter',
  'revoke',
  'callback',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * Operations the engine performs itself, under a node's policies: `auto_retry` is the retry of
 * an `auto_retry` policy (a retry that also counts `auto_retry_times`). They travel the same
 * path as a client's operation and are events like any other; HTTP clients cannot ask for them.
 */
export const ENGINE_OPERATIONS = ['auto_retry'] as const;
export type EngineOperation = (typeof ENGINE_OPERATIONS)[number];

export type MachineOperation = Operation | EngineOperation | 'revoke_cascade';
export const MACHINE_OPERATIONS: readonly MachineOperation[] = [...OPERATIONS, ...ENGINE_OPERATIONS, 'revoke_cascade'];

export const NODE_KINDS = ['pipeline', 'subprocess', 'activity', 'event', 'gateway'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** Containers hold children; leaves do the work. */
export const CONTAINER_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(['pipeline', 'subprocess']);
