/**
 * The engine as the HTTP adapter sees it over a data directory: every member is the engine's
 * own, except the three queries, which answer archived tasks from storage too (asynchronously;
 * the adapter awaits whatever an API method returns). A Proxy rather than a list of members, so
 * that whatever the adapter comes to use of the engine is the engine's, unchanged.
 */
import { overriding } from '../delegate.js';
import type { DurableEngine } from '../durable-engine.js';
import type { EnginePort } from './port.js';

export function withStoredAnswers(engine: DurableEngine): EnginePort {
  const stored = engine.stored;
  const overrides = new Map<PropertyKey, unknown>([
    ['getTaskStatus', stored.getTaskStatus.bind(stored)],
    ['getTasksStatus', stored.getTasksStatus.bind(stored)],
    ['getTaskNodeDetail', stored.getTaskNodeDetail.bind(stored)],
  ]);
  return overriding(engine, overrides) as unknown as EnginePort;
}
