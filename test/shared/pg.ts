/**
 * The real PostgreSQL the shared-deployment suites run against (issue 11): each suite works in a
 * schema of its own, made for the run and dropped after it. When the server cannot be reached
 * the suites fail at once, saying where they looked and how to point them elsewhere.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DATABASE_URL = process.env.PIPESTATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A new schema name: unique per run and suite, so parallel suites and runs never meet. */
export const newSchemaName = (): string => `pipestate_t_${process.pid}_${randomBytes(4).toString('hex')}`;

/** Fails clearly when PostgreSQL is not there. */
export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL} (${(error as Error).message}). The shared-deployment tests need a real server: ` +
        'start it, or set PIPESTATE_TEST_DATABASE_URL.',
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs SQL on a connection of its own. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** A client of its own, for transactions a test holds open. */
export async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
