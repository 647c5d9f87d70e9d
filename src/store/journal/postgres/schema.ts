/**
 * pipestate's tables in PostgreSQL, in one schema, created or migrated at start under an advisory
 * lock (instances starting together migrate once), with a version table: a database written by a
 * newer pipestate is refused rather than misread.
 *
 * - `journal`: one row per journaled entry. Its position is `(xid, n)`: the writing transaction's
 *   id (`pg_current_xact_id()`, drawn when the row is inserted) and the entry's number inside that
 *   transaction. Followers read only rows whose xid is below the oldest transaction still running
 *   (`pg_snapshot_xmin`), so a row that commits late can never fall behind a follower's cursor:
 *   see docs/instances.md. `key` is the task id (or '' for a project) for the per-task head.
 *   The body is the entry without seqs: followers number changes as they apply them, all alike.
 * - `journal_floor`: rows at or before this position were dropped after a checkpoint; a follower
 *   behind it cannot continue and must reload.
 * - `checkpoint` / `checkpoint_part`: the whole state at a position, in parts; it counts once
 *   `complete`.
 * - `archive`: tasks that left memory (retention), until they expire.
 * - `task_id`: the sequence service-assigned task ids are drawn from, shared by every instance.
 */
import type pg from 'pg';
import { JournalError } from '../errors.js';

export const SCHEMA_VERSION = 1;

const MIGRATIONS: readonly ((s: string) => string)[] = [
  (s) => `
    CREATE TABLE ${s}.journal (
      xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      n integer NOT NULL,
      key text NOT NULL,
      body bytea NOT NULL,
      PRIMARY KEY (xid, n)
    );
    CREATE INDEX journal_key ON ${s}.journal (key, xid, n);
    CREATE TABLE ${s}.journal_floor (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      xid xid8 NOT NULL,
      n integer NOT NULL
    );
    CREATE TABLE ${s}.checkpoint (
      id bigserial PRIMARY KEY,
      xid xid8 NOT NULL,
      n integer NOT NULL,
      seq bigint NOT NULL,
      entries bigint NOT NULL,
      header jsonb NOT NULL,
      parts integer NOT NULL DEFAULT 0,
      complete boolean NOT NULL DEFAULT false
    );
    CREATE TABLE ${s}.checkpoint_part (
      checkpoint_id bigint NOT NULL REFERENCES ${s}.checkpoint ON DELETE CASCADE,
      part integer NOT NULL,
      body bytea NOT NULL,
      PRIMARY KEY (checkpoint_id, part)
    );
    CREATE TABLE ${s}.archive (
      task_id text PRIMARY KEY,
      project_id text NOT NULL,
      archived_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      body bytea NOT NULL
    );
    CREATE INDEX archive_expiry ON ${s}.archive (expires_at);
    CREATE SEQUENCE ${s}.task_id MINVALUE 1;
  `,
];

/** Creates the schema or brings it to SCHEMA_VERSION; refuses a newer one. */
export async function migrate(client: pg.ClientBase, schema: string, location: string): Promise<{ from: number; to: number }> {
  const s = `"${schema}"`;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [`pipestate:${schema}:migrate`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_version`);
    const from = rows[0].v ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new JournalError(
        location,
        `schema "${schema}" is at version ${from}, newer than this pipestate's ${SCHEMA_VERSION}: upgrade pipestate`,
      );
    }
    for (let v = from + 1; v <= SCHEMA_VERSION; v++) {
      await client.query(MIGRATIONS[v - 1](s));
      await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [v]);
    }
    await client.query('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
