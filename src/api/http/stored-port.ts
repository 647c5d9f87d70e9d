/**
 * The engine as the HTTP adapter sees it over a data directory: every member is the engine's
 * own, except the three queries, which answer archived tasks from storage too (asynchronously;
 * the adapter awaits whatever an API method returns). A Proxy rather than a list of members, so
 * that whatever the adapter comes to use of the engine is the engine's, unchanged.
 */
import type { DurableEngine } from '../durable-engine.js';
import type { EnginePort } from './port.js';

export function withStoredAnswers(engine: DurableEngine): EnginePort {
  const stored = engine.stored;
  const overrides = new Map<PropertyKey, unknown>([
    ['getTaskStatus', stored.getTaskStatus.bind(stored)],
    ['getTasksStatus', stored.getTasksStatus.bind(stored)],
    ['getTaskNodeDetail', stored.getTaskNodeDetail.bind(stored)],
  ]);
  // Bound once per name, so that on/off see the same function and a listener comes off again.
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(engine, {
    get(target, key) {
      if (overrides.has(key)) return overrides.get(key);
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (!bound.has(key)) bound.set(key, (value as (...a: unknown[]) => unknown).bind(target));
      return bound.get(key);
    },
  }) as unknown as EnginePort;
}
