/** src/index.ts exports the public surface of SPEC §5 and nothing internal. */
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';

describe('the public API', () => {
  it('exports exactly the runtime values it documents', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ConfigError',
      'DEFAULT_QUOTA',
      'DEFAULT_STORE_LIMITS',
      'DURABILITY_MODES',
      'DurableEngine',
      'ERROR_CODES',
      'Engine',
      'JournalError',
      'ManualClock',
      'PipestateError',
      'PipestateServer',
      'SharedEngine',
      'Snapshot',
      'StoredQueries',
      'createEngine',
      'createHandler',
      'createServer',
      'loadConfig',
      'openEngine',
      'openSharedEngine',
      'parseConfig',
      'resolveConfig',
      'withStoredAnswers',
    ]);
  });

  it('createEngine makes an Engine, which is a Store with the five request methods', () => {
    const engine = api.createEngine();
    expect(engine).toBeInstanceOf(api.Engine);
    for (const m of [
      'getTaskStatus',
      'getTasksStatus',
      'getTaskNodeDetail',
      'operateTask',
      'operateNode',
      'apply',
      'snapshot',
      'deleteTask',
      'quota',
    ] as const) {
      expect(typeof engine[m]).toBe('function');
    }
    expect(engine.snapshot()).toBeInstanceOf(api.Snapshot);
    expect(api.ERROR_CODES).toEqual({
      invalid: 3540000,
      unauthenticated: 3540100,
      notFound: 3540400,
      quotaExceeded: 3542900,
      refused: 3545000,
      unexpected: 3599999,
    });
  });
});
