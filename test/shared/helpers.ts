/** Shared engines on one fresh schema: opened for each test and closed after it; the schema dropped after the suite. */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { openSharedEngine, type SharedEngine, type SharedEngineOptions } from '../../src/api/shared-engine.js';
import { DATABASE_URL, dropSchema, newSchemaName, requirePostgres } from './pg.js';

export const PROJECT = { id: '1', bk_biz_id: '2', name: 'ops', time_zone: 'UTC' };

export const PIPELINE = {
  id: 'root',
  kind: 'pipeline' as const,
  children: [
    { id: 'a', kind: 'activity' as const },
    { id: 'b', kind: 'activity' as const, error_ignorable: true },
    {
      id: 'sub',
      kind: 'subprocess' as const,
      children: [
        { id: 'c', kind: 'activity' as const },
        { id: 'd', kind: 'event' as const },
      ],
    },
  ],
};

/**
 * Opens engines on one schema per suite, afresh for each test (the schema and what is in it
 * carry over; each test's engines replay it when they open); `engines()` gives them once they
 * are open. Per test, not per suite: engine work outside a test makes a mutation run re-run
 * every test for each mutant it reached (docs/testing.md).
 */
export function sharedSuite(
  count: number,
  options: Partial<SharedEngineOptions> = {},
): { engines: () => SharedEngine[]; schema: string; open: (o?: Partial<SharedEngineOptions>) => Promise<SharedEngine> } {
  const schema = newSchemaName();
  const all: SharedEngine[] = [];
  const open = async (o: Partial<SharedEngineOptions> = {}): Promise<SharedEngine> => {
    const e = await openSharedEngine({ databaseUrl: DATABASE_URL, schema, poolSize: 4, log: () => undefined, ...options, ...o });
    all.push(e);
    return e;
  };
  const first: SharedEngine[] = [];
  beforeAll(requirePostgres);
  beforeEach(async () => {
    for (let i = 0; i < count; i++) first.push(await open());
    await first[0]?.ensureProject(PROJECT);
  });
  afterEach(async () => {
    for (const e of all.splice(0)) await e.close().catch(() => undefined);
    first.length = 0;
  });
  // every engine a test opened, by the suite or by `open`, is closed after it
  afterAll(async () => {
    await dropSchema(schema);
  });
  return { engines: () => first, schema, open };
}
