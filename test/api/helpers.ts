/**
 * Test fixtures shared by test/api and test/query: an engine on a clock the test moves by hand,
 * deterministic versions, and the context that pins request_id and trace_id.
 */
import { createEngine, type Engine, type EngineOptions, type NodeDefinition } from '../../src/index.js';

/** 2020-08-17 12:13:53.200 UTC = 20:13:53 +0800, the second of the seed example. */
export const T0 = Date.UTC(2020, 7, 17, 12, 13, 53, 200);
export const CTX = { request_id: 'req', trace_id: 'trace' } as const;

/** The n-th version a test engine hands out: 32 hex digits. */
export const version = (n: number): string => n.toString(16).padStart(32, '0');

export interface Clocked {
  readonly engine: Engine;
  /** set the clock (ms) */
  at(ms: number): void;
  /** move the clock forward */
  tick(ms: number): void;
  now(): number;
  /** errors the engine reported as unexpected (bugs): tests expect none */
  readonly unexpected: unknown[];
}

export function clockedEngine(start = T0, options: EngineOptions = {}): Clocked {
  let t = start;
  let n = 0;
  const unexpected: unknown[] = [];
  const engine = createEngine({
    clock: () => t,
    newVersion: () => version(++n),
    onUnexpectedError: (e) => {
      unexpected.push(e);
    },
    ...options,
  });
  return {
    engine,
    at: (ms) => {
      t = ms;
    },
    tick: (ms) => {
      t += ms;
    },
    now: () => t,
    unexpected,
  };
}

/** Project 1 bound to business 2 in Asia/Shanghai, project 3 bound to 4 in UTC. */
export function withProjects(c: Clocked, zone = 'Asia/Shanghai'): Clocked {
  c.engine.createProject({ id: '1', bk_biz_id: '2', name: 'one', time_zone: zone });
  c.engine.createProject({ id: '3', bk_biz_id: '4', name: 'three', time_zone: 'UTC' });
  return c;
}

/** A definition from a compact description: `leaf(id)`, `sub(id, ...children)`, `pipe(id, ...)`. */
export const leaf = (id: string, name = id, error_ignorable = false): NodeDefinition => ({ id, name, kind: 'activity', error_ignorable });
export const sub = (id: string, ...children: NodeDefinition[]): NodeDefinition => ({ id, name: id, kind: 'subprocess', children });
export const pipe = (id: string, ...children: NodeDefinition[]): NodeDefinition => ({ id, name: id, kind: 'pipeline', children });

/** getTaskStatus of task `taskId` in business 2 at the engine's clock; throws unless it succeeded. */
/**
 * Task 10 of project 1 (business 2: root r, leaf a, subprocess s with leaf s1) with its root
 * started, and task 30 of project 3: the usual pair for resolution and isolation cases.
 */
export function twoProjectTasks() {
  const c = withProjects(clockedEngine());
  const e = c.engine;
  e.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: pipe('r', leaf('a'), sub('s', leaf('s1'))) });
  e.createTask({ id: '30', project_id: '3', name: 'thirty', pipeline: pipe('r', leaf('a')) });
  e.start('10', 'r');
  return { c, e };
}

export function status(engine: Engine, taskId: string, extra: Record<string, unknown> = {}) {
  const env = engine.getTaskStatus({ bk_biz_id: '2', task_id: taskId, ...extra }, CTX);
  if (!env.result) throw new Error(`status failed: ${env.code} ${env.message}`);
  return env.data!;
}
