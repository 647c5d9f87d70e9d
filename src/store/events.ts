/**
 * The change feed: one event per changed node (and again once it is durable), one per registered
 * or deleted task, through eventemitter3.
 * Listeners run after the store has committed, each in its own try/catch: a listener that
 * throws is reported and neither corrupts the store nor keeps the others from running.
 *
 * Every listener sees events in `seq` order, even when a listener itself operates on the store:
 * events published while others are being delivered wait in a queue that the outermost
 * delivery drains. (So an operation called from a listener returns before its own events have
 * reached the listeners; they follow once the current event has reached all of them.)
 */
import { EventEmitter } from 'eventemitter3';
import type { EngineOperation, Json, NodeRecord, Operation, State } from '../lifecycle/index.js';

export interface NodeChange {
  /** engine-wide sequence number of accepted changes, from 1: a cursor for change feeds */
  readonly seq: number;
  readonly taskId: string;
  readonly nodeId: string;
  /**
   * the operation asked for (a revoke's cascade to descendants says `revoke`), or the one the
   * engine made under a node's policy (`auto_retry`)
   */
  readonly operation: Operation | EngineOperation;
  readonly from: State;
  readonly to: State;
  /** ms: the engine clock at the operation */
  readonly at: number;
  readonly record: NodeRecord;
  /** what a `callback` carried for the orchestrator; absent on every other change */
  readonly data?: Json;
}

export interface TaskCreated {
  readonly seq: number;
  readonly taskId: string;
  readonly projectId: string;
  readonly at: number;
}

/** A task deleted (Store.deleteTask); snapshots taken before still hold it. */
export interface TaskDeleted {
  readonly seq: number;
  readonly taskId: string;
  readonly projectId: string;
  readonly at: number;
}

export interface EngineEvents {
  /** a node change, as soon as it is committed in memory */
  node: [NodeChange];
  /**
   * the same change once it is durable: with a journal, after the batch holding it is written
   * under the durability mode; without one, right after `node` (memory is all there is). Every
   * listener hears these in seq order; a change the journal failed to write never comes here.
   */
  node_durable: [NodeChange];
  task: [TaskCreated];
  task_deleted: [TaskDeleted];
}
export type EngineEventName = keyof EngineEvents;
export type EngineListener<E extends EngineEventName> = (...args: EngineEvents[E]) => void;

export type ListenerErrorHandler = (error: unknown, event: EngineEventName) => void;

export const reportToStderr: ListenerErrorHandler = (error, event) => {
  console.error(`pipestate: a listener of '${event}' threw; the store is unaffected`, error);
};

export class ChangeFeed {
  private readonly emitter = new EventEmitter<EngineEvents>();

  constructor(private readonly onListenerError: ListenerErrorHandler) {}

  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.emitter.on(event, this.guarded(event) as never, listener);
  }

  off<E extends EngineEventName>(event: E, listener: EngineListener<E>): void {
    this.emitter.off(event, this.guarded(event) as never, listener);
  }

  /** Cheap when nobody listens: callers skip building payloads they would throw away. */
  listening(event: EngineEventName): boolean {
    return this.emitter.listenerCount(event) > 0;
  }

  private readonly queue: { event: EngineEventName; payload: EngineEvents[EngineEventName][0] }[] = [];
  private delivering = false;

  /** Delivers an event to every listener, after the ones already being delivered. */
  publish<E extends EngineEventName>(event: E, payload: EngineEvents[E][0]): void {
    this.queue.push({ event, payload });
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        (this.emitter.emit as (e: EngineEventName, p: EngineEvents[EngineEventName][0]) => boolean)(next.event, next.payload);
      }
    } finally {
      this.delivering = false;
    }
  }

  // One wrapper per event name, so `off` finds it again by (wrapper, listener) identity:
  // eventemitter3 calls it with `this` bound to the listener it guards.
  private readonly wrappers = new Map<EngineEventName, (this: (...a: unknown[]) => void, ...a: unknown[]) => void>();

  private guarded(event: EngineEventName) {
    let w = this.wrappers.get(event);
    if (!w) {
      const onError = this.onListenerError;
      w = function (this: (...a: unknown[]) => void, ...args: unknown[]) {
        try {
          this(...args);
        } catch (error) {
          try {
            onError(error, event);
          } catch {
            /* a failing reporter must not break the feed either */
          }
        }
      };
      this.wrappers.set(event, w);
    }
    return w;
  }
}
