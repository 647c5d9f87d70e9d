/**
 * The node lifecycle of SPEC §2 as one xstate v5 machine: the single source of truth for which
 * operation may move a node from which state to which. Nothing runs this machine per node: the
 * store uses the dense table compiled from it (table.ts), and a test holds the two in agreement.
 *
 * The structural rules are guards. What a node *is* lives in the context (container or leaf,
 * root or not, defined error_ignorable, entered as often as the rerun limit allows); what its
 * surroundings are at the moment of the operation travels on the event (are its ancestors all
 * RUNNING, RUNNING or SUSPENDED, or is one archived; is a descendant still active).
 */
import { and, setup } from 'xstate';
import type { MachineOperation } from './states.js';

export interface LifecycleContext {
  /** pipeline or subprocess */
  readonly container: boolean;
  /** the task's pipeline node */
  readonly root: boolean;
  /** defined `error_ignorable`: a fail finishes it instead */
  readonly errorIgnorable: boolean;
  /** `loop` has reached the engine's rerun limit: a re-entry fails it */
  readonly atRerunLimit: boolean;
}

/**
 * `running`: every ancestor is RUNNING (or there is none); `suspended`: every ancestor is RUNNING
 * or SUSPENDED and one is SUSPENDED; `archived`: some ancestor is neither.
 */
export type AncestorCondition = 'running' | 'suspended' | 'archived';
export const ANCESTOR_CONDITIONS: readonly AncestorCondition[] = ['running', 'suspended', 'archived'];

export interface LifecycleEvent {
  readonly type: MachineOperation;
  readonly ancestors: AncestorCondition;
  /** some descendant is RUNNING, READY or SUSPENDED */
  readonly descendantsActive: boolean;
}

export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as LifecycleContext,
  },
  guards: {
    leaf: ({ context }) => !context.container,
    container: ({ context }) => context.container,
    root: ({ context }) => context.root,
    errorIgnorable: ({ context }) => context.errorIgnorable,
    atRerunLimit: ({ context }) => context.atRerunLimit,
    ancestorsRunning: ({ event }) => event.ancestors === 'running',
    ancestorsLive: ({ event }) => event.ancestors !== 'archived',
    descendantsIdle: ({ event }) => !event.descendantsActive,
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => input,
  initial: 'CREATED',
  states: {
    CREATED: {
      on: {
        start: { guard: 'ancestorsRunning', target: 'RUNNING' },
        pause: { guard: and(['leaf', 'ancestorsLive']), target: 'SUSPENDED' },
      },
    },
    READY: {
      on: {
        start: { guard: 'ancestorsRunning', target: 'RUNNING' },
        pause: { guard: and(['leaf', 'ancestorsLive']), target: 'SUSPENDED' },
        revoke_cascade: { target: 'REVOKED' },
      },
    },
    RUNNING: {
      on: {
        finish: { guard: and(['ancestorsLive', 'descendantsIdle']), target: 'FINISHED' },
        fail: [
          { guard: and(['ancestorsLive', 'errorIgnorable']), target: 'FINISHED' },
          { guard: 'ancestorsLive', target: 'FAILED' },
        ],
        forced_fail: { guard: and(['leaf', 'ancestorsLive']), target: 'FAILED' },
        pause: { guard: and(['container', 'ancestorsLive']), target: 'SUSPENDED' },
        revoke: { guard: 'root', target: 'REVOKED' },
        revoke_cascade: { target: 'REVOKED' },
        callback: { guard: and(['leaf', 'ancestorsLive']), target: 'RUNNING' },
      },
    },
    SUSPENDED: {
      on: {
        resume: [
          { guard: and(['container', 'ancestorsRunning']), target: 'RUNNING' },
          { guard: and(['leaf', 'ancestorsRunning']), target: 'READY' },
        ],
        revoke: { guard: 'root', target: 'REVOKED' },
        revoke_cascade: { target: 'REVOKED' },
      },
    },
    FINISHED: {
      on: {
        reenter: [
          { guard: and(['ancestorsRunning', 'atRerunLimit']), target: 'FAILED' },
          { guard: 'ancestorsRunning', target: 'RUNNING' },
        ],
      },
    },
    FAILED: {
      on: {
        retry: { guard: 'ancestorsLive', target: 'READY' },
        auto_retry: { guard: 'ancestorsLive', target: 'READY' },
        skip: { guard: 'ancestorsLive', target: 'FINISHED' },
      },
    },
    REVOKED: { type: 'final' },
  },
});
