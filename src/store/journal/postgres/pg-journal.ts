/**
 * The shared journal on PostgreSQL (SharedJournalPort): every instance of a deployment reads and
 * writes the same schema.
 *
 * The one subtle query is the follower's read. A row's position is its transaction's id, drawn
 * when the row is inserted, so transactions commit out of position order: a reader that took
 * "everything after position p" could move past a row that commits later with a smaller
 * position, and never see it. The read therefore takes only rows whose xid is below the oldest
 * transaction still running (`pg_snapshot_xmin(pg_current_snapshot())`, in the same statement
 * and so the same snapshot as the scan): every transaction below that horizon has ended, so every
 * row it wrote is visible now or never will be. Later rows wait until the horizon passes them.
 * The price: a transaction that stays open holds followers back, which is why commands take an
 * xid only when they write (advisory locks and reads do not draw one) and commit at once, and why
 * checkpoints are written in many short transactions.
 */
import pg from 'pg';
import { decodeEntries, decodeProject, decodeTask, decodeTaskPart, encodeEntries } from '../codec.js';
import type { JournalEntry } from '../entries.js';
import { JournalError } from '../errors.js';
import type { CheckpointPart, DecodedCheckpointPart } from '../port.js';
import type { Position } from '../shared/position.js';
import type {
  ArchivedRow,
  CommandTransaction,
  JournalRow,
  Lease,
  ReadResult,
  SharedCheckpoint,
  SharedJournalPort,
} from '../shared/port.js';
import { DEFAULT_CONNECT, SCHEMA_PATTERN, newClient, newPool, openFailure, redactUrl, type ConnectOptions } from './connection.js';
import { migrate } from './schema.js';

export interface PgJournalOptions extends Partial<Omit<ConnectOptions, 'url'>> {
  readonly url: string;
}

interface RowOut {
  xid: string;
  n: number;
  body: Buffer;
  floor_xid: string | null;
  floor_n: number | null;
}

const position = (xid: string, n: number): Position => ({ xid: BigInt(xid), n });

export class PgJournal implements SharedJournalPort {
  readonly location: string;
  private readonly s: string;
  /** the NOTIFY channel of this schema */
  private readonly channel: string;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly o: ConnectOptions,
    readonly migrated: { from: number; to: number },
  ) {
    this.location = `${redactUrl(o.url)} (schema ${o.schema})`;
    this.s = `"${o.schema}"`;
    this.channel = `pipestate_${o.schema}`.slice(0, 63);
  }

  /**
   * Connects, and creates or migrates the schema. Throws a JournalError naming the URL (password
   * hidden) and the cause when the database cannot be reached or used.
   */
  static async open(options: PgJournalOptions): Promise<PgJournal> {
    const o = connectOptions(options);
    if (!SCHEMA_PATTERN.test(o.schema))
      throw new JournalError(redactUrl(o.url), `schema ${JSON.stringify(o.schema)} is not a plain lower-case identifier`);
    const pool = newPool(o);
    let migrated: { from: number; to: number };
    try {
      const client = await pool.connect();
      try {
        migrated = await migrate(client, o.schema, redactUrl(o.url));
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (error instanceof JournalError) throw error;
      throw openFailure(o.url, error);
    }
    return new PgJournal(pool, o, migrated);
  }

  async read(after: Position, limit: number): Promise<ReadResult> {
    const { rows } = await this.pool.query<RowOut>({
      name: `read-${this.o.schema}`,
      text: `SELECT xid::text AS xid, n, body,
                    (SELECT xid::text FROM ${this.s}.journal_floor) AS floor_xid,
                    (SELECT n FROM ${this.s}.journal_floor) AS floor_n
               FROM ${this.s}.journal
              WHERE (xid, n) > ($1::xid8, $2::integer) AND xid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY journal.xid, journal.n
              LIMIT $3`,
      values: [after.xid.toString(), after.n, limit],
    });
    const out: JournalRow[] = rows.map((r) => {
      const [entry] = decodeEntries(r.body);
      return { position: position(r.xid, r.n), entry };
    });
    const first = rows[0];
    const floor = first !== undefined && first.floor_xid !== null ? position(first.floor_xid, first.floor_n!) : undefined;
    return { rows: out, floor };
  }

  async begin(): Promise<CommandTransaction> {
    return new PgCommand(await this.pool.connect(), this.o.schema, this.channel);
  }

  async listen(onAppend: () => void, onLost: (error: unknown) => void): Promise<() => Promise<void>> {
    const client = newClient(this.o);
    let stopped = false;
    client.on('notification', () => onAppend());
    const lost = (error: unknown) => {
      if (stopped) return;
      stopped = true;
      client.end().catch(() => undefined);
      onLost(error);
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('Connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      stopped = true;
      await client.end().catch(() => undefined);
      throw error;
    }
    return async () => {
      stopped = true;
      await client.end().catch(() => undefined);
    };
  }

  async latestCheckpoint(): Promise<SharedCheckpoint | undefined> {
    const { rows } = await this.pool.query<{
      id: string;
      xid: string;
      n: number;
      seq: string;
      entries: string;
      header: Record<string, number>;
    }>(
      `SELECT id::text, xid::text, n, seq::text, entries::text, header FROM ${this.s}.checkpoint WHERE complete ORDER BY checkpoint.xid DESC, checkpoint.n DESC, checkpoint.id DESC LIMIT 1`,
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    const h = r.header;
    return {
      id: Number(r.id),
      position: position(r.xid, r.n),
      seq: Number(r.seq),
      entries: Number(r.entries),
      projects: h.projects,
      tasks: h.tasks,
      nodes: h.nodes,
      highestTaskId: h.highestTaskId ?? 0,
      takenAt: h.takenAt,
    };
  }

  async *readCheckpoint(id: number): AsyncIterable<DecodedCheckpointPart> {
    const page = 64;
    for (let from = 0; ; from += page) {
      const { rows } = await this.pool.query<{ body: Buffer }>(
        `SELECT body FROM ${this.s}.checkpoint_part WHERE checkpoint_id = $1 AND part >= $2 ORDER BY part LIMIT $3`,
        [id, from, page],
      );
      for (const r of rows) yield decodePart(r.body);
      if (rows.length < page) return;
    }
  }

  /**
   * Written in short transactions, a few parts each: a checkpoint of a large state must not hold
   * an xid open for long (followers wait for every transaction older than the rows they read).
   * It counts only once the last transaction marks it complete.
   */
  async writeCheckpoint(header: Omit<SharedCheckpoint, 'id'>, parts: AsyncIterable<CheckpointPart>): Promise<SharedCheckpoint> {
    const { position: p, seq, entries, ...rest } = header;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO ${this.s}.checkpoint (xid, n, seq, entries, header) VALUES ($1::xid8, $2, $3, $4, $5) RETURNING id::text`,
      [p.xid.toString(), p.n, seq, entries, JSON.stringify(rest)],
    );
    const id = Number(rows[0].id);
    let part = 0;
    let batch: Buffer[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const first = part - batch.length;
      await this.pool.query(
        `INSERT INTO ${this.s}.checkpoint_part (checkpoint_id, part, body) SELECT $1, $2 + ord - 1, body FROM unnest($3::bytea[]) WITH ORDINALITY AS t(body, ord)`,
        [id, first, batch],
      );
      batch = [];
      bytes = 0;
    };
    for await (const value of parts) {
      const body = Buffer.from(JSON.stringify(value));
      batch.push(body);
      bytes += body.length;
      part++;
      if (batch.length >= 32 || bytes >= 4 << 20) await flush();
    }
    await flush();
    await this.pool.query(`UPDATE ${this.s}.checkpoint SET parts = $2, complete = true WHERE id = $1`, [id, part]);
    return { ...header, id };
  }

  async dropBefore(keep: SharedCheckpoint, floor: Position): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.s}.checkpoint WHERE id <> $1 AND (complete OR id < $1)`, [keep.id]);
    await this.pool.query(
      `INSERT INTO ${this.s}.journal_floor (xid, n) VALUES ($1::xid8, $2)
       ON CONFLICT (one) DO UPDATE SET xid = EXCLUDED.xid, n = EXCLUDED.n
       WHERE (${this.s}.journal_floor.xid, ${this.s}.journal_floor.n) < (EXCLUDED.xid, EXCLUDED.n)`,
      [floor.xid.toString(), floor.n],
    );
    // In slices, each its own short transaction, for the reason checkpoints are.
    for (;;) {
      const { rowCount } = await this.pool.query(
        `DELETE FROM ${this.s}.journal WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM ${this.s}.journal WHERE (xid, n) <= ($1::xid8, $2::integer) LIMIT 5000))`,
        [floor.xid.toString(), floor.n],
      );
      if ((rowCount ?? 0) < 5000) return;
    }
  }

  /** A session-level advisory lock on a connection of its own: it goes when the holder does. */
  async lease(name: string): Promise<Lease> {
    const client = newClient(this.o);
    client.on('error', () => undefined);
    await client.connect();
    let held = false;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), 1) AS ok', [
        `pipestate:${this.o.schema}:lease:${name}`,
      ]);
      held = rows[0].ok;
    } finally {
      if (!held) await client.end().catch(() => undefined);
    }
    let alive = held;
    client.on('end', () => {
      alive = false;
    });
    client.on('error', () => {
      alive = false;
    });
    return {
      get held() {
        return alive;
      },
      release: async () => {
        if (!alive) return;
        alive = false;
        await client.end().catch(() => undefined);
      },
    };
  }

  async readArchived(taskId: string): Promise<ArchivedRow | undefined> {
    const { rows } = await this.pool.query<{ project_id: string; archived_at: string; expires_at: string; body: Buffer }>(
      `SELECT project_id, archived_at::text, expires_at::text, body FROM ${this.s}.archive WHERE task_id = $1`,
      [taskId],
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    return {
      taskId,
      projectId: r.project_id,
      archivedAt: Number(r.archived_at),
      expiresAt: Number(r.expires_at),
      parts: decodeTask(r.body),
    };
  }

  async expireArchived(now: number): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.s}.archive WHERE expires_at <= $1`, [now]);
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

/** The options with their defaults; one given as undefined takes its default too. */
export function connectOptions(options: PgJournalOptions): ConnectOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_CONNECT, ...given, url: options.url };
}

function decodePart(body: Buffer): DecodedCheckpointPart {
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (Array.isArray(parsed) && parsed[0] === 'projects' && Array.isArray(parsed[1])) {
    return { kind: 'projects', projects: parsed[1].map(decodeProject) };
  }
  return decodeTaskPart(parsed);
}

class PgCommand implements CommandTransaction {
  private readonly s: string;
  private done = false;
  /** a connection lost while checked out errors here (the next query rejects): never an unhandled event */
  private readonly onError = (): void => undefined;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly schema: string,
    private readonly channel: string,
  ) {
    this.s = `"${schema}"`;
    client.on('error', this.onError);
  }

  /**
   * The commands of a group share this connection: their statements go one after another (a
   * connection runs one query at a time; pg 9 stops queueing them itself).
   */
  private chain: Promise<unknown> = Promise.resolve();

  private query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const run = () => this.client.query<R>(text as string, values);
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private release(destroy: boolean): void {
    this.client.off('error', this.onError);
    this.client.release(destroy);
  }

  /** BEGIN goes with the transaction's first statement: one round trip fewer per command. */
  private began = false;

  private get begin(): string {
    if (this.began) return '';
    this.began = true;
    return 'BEGIN; ';
  }

  /** Several statements as one simple query (one round trip); the results of the last. */
  private async batch<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
    const results = (await this.query(text)) as unknown as pg.QueryResult<R> | pg.QueryResult<R>[];
    return Array.isArray(results) ? results[results.length - 1].rows : results.rows;
  }

  async lock(key: string, keys: readonly string[]): Promise<Position | undefined> {
    // An advisory lock draws no transaction id: waiting here holds no follower back. The head is
    // read by the next statement, with a snapshot taken once the lock is held.
    const lit = pg.escapeLiteral;
    const rows = await this.batch<{
      xid: string;
      n: number;
    }>(`${this.begin}SELECT pg_advisory_xact_lock(hashtext(${lit(`pipestate:${this.schema}:task`)}), hashtext(${lit(key)}));
      SELECT h.xid::text AS xid, h.n FROM (
        SELECT DISTINCT ON (key) xid, n FROM ${this.s}.journal WHERE key = ANY(ARRAY[${keys.map(lit).join(', ')}]::text[]) ORDER BY key, xid DESC, n DESC
      ) h ORDER BY h.xid DESC, h.n DESC LIMIT 1`);
    return rows[0] === undefined ? undefined : position(rows[0].xid, rows[0].n);
  }

  async tryLock(key: string, keys: readonly string[]): Promise<{ readonly locked: boolean; readonly head: Position | undefined }> {
    const lit = pg.escapeLiteral;
    const results =
      (await this.query(`${this.begin}SELECT pg_try_advisory_xact_lock(hashtext(${lit(`pipestate:${this.schema}:task`)}), hashtext(${lit(key)})) AS locked;
      SELECT h.xid::text AS xid, h.n FROM (
        SELECT DISTINCT ON (key) xid, n FROM ${this.s}.journal WHERE key = ANY(ARRAY[${keys.map(lit).join(', ')}]::text[]) ORDER BY key, xid DESC, n DESC
      ) h ORDER BY h.xid DESC, h.n DESC LIMIT 1`)) as unknown as pg.QueryResult[];
    const locked = results.find((r) => r.fields.some((f) => f.name === 'locked'))!.rows[0].locked === true;
    const row = results[results.length - 1].rows[0] as { xid: string; n: number } | undefined;
    return { locked, head: row === undefined ? undefined : position(row.xid, row.n) };
  }

  async drawTaskId(): Promise<string> {
    const { rows } = await this.client.query<{ id: string }>(`SELECT nextval('${this.s}.task_id')::text AS id`);
    return rows[0].id;
  }

  async raiseTaskId(id: string): Promise<void> {
    // Sequences are not transactional: raising one is safe at any time, and never lowers it.
    await this.query(
      `SELECT setval('${this.s}.task_id', $1::bigint) FROM ${this.s}.task_id WHERE last_value < $1::bigint OR NOT is_called`,
      [id],
    );
  }

  async append(entries: readonly { readonly key: string; readonly entry: JournalEntry }[]): Promise<bigint> {
    if (!this.began) await this.query(this.begin);
    const keys = entries.map((e) => e.key);
    const bodies = entries.map((e) => encodeEntries([e.entry]));
    const { rows } = await this.client.query<{ xid: string }>({
      name: `append-${this.schema}`,
      text: `WITH ins AS (
               INSERT INTO ${this.s}.journal (n, key, body)
               SELECT ord - 1, key, body FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(key, body, ord)
               RETURNING xid
             )
             SELECT (SELECT xid::text FROM ins LIMIT 1) AS xid, pg_notify($3, '')`,
      values: [keys, bodies, this.channel],
    });
    for (const { entry } of entries) {
      if (entry.kind === 'archived' && entry.state !== undefined) {
        await this.query(
          `INSERT INTO ${this.s}.archive (task_id, project_id, archived_at, expires_at, body) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (task_id) DO UPDATE SET project_id = EXCLUDED.project_id, archived_at = EXCLUDED.archived_at,
             expires_at = EXCLUDED.expires_at, body = EXCLUDED.body`,
          [entry.taskId, entry.projectId, entry.at, entry.expiresAt, Buffer.from(entry.state)],
        );
      } else if (entry.kind === 'deleted') {
        await this.query(`DELETE FROM ${this.s}.archive WHERE task_id = $1`, [entry.deleted.taskId]);
      }
    }
    return BigInt(rows[0].xid);
  }

  async appendAndCommit(entries: readonly { readonly key: string; readonly entry: JournalEntry }[]): Promise<bigint> {
    if (entries.length === 0) throw new RangeError('nothing to append');
    const lit = pg.escapeLiteral;
    const hex = (b: Uint8Array) => `'\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}'::bytea`;
    const values = entries.map((e, k) => `(${k}, ${lit(e.key)}, ${hex(encodeEntries([e.entry]))})`).join(', ');
    const side = entries
      .map(({ entry }) => {
        if (entry.kind === 'archived' && entry.state !== undefined) {
          return `INSERT INTO ${this.s}.archive (task_id, project_id, archived_at, expires_at, body) VALUES (${lit(entry.taskId)}, ${lit(entry.projectId)}, ${entry.at}, ${entry.expiresAt}, ${hex(entry.state)})
          ON CONFLICT (task_id) DO UPDATE SET project_id = EXCLUDED.project_id, archived_at = EXCLUDED.archived_at, expires_at = EXCLUDED.expires_at, body = EXCLUDED.body;`;
        }
        return entry.kind === 'deleted' ? `DELETE FROM ${this.s}.archive WHERE task_id = ${lit(entry.deleted.taskId)};` : '';
      })
      .join('\n');
    this.done = true;
    try {
      const results =
        (await this.query(`${this.begin}INSERT INTO ${this.s}.journal (n, key, body) VALUES ${values} RETURNING xid::text AS xid;
        ${side}
        SELECT pg_notify(${lit(this.channel)}, '');
        COMMIT`)) as unknown as pg.QueryResult<{ xid: string }>[];
      this.release(false);
      const inserted = results.find((r) => r.command === 'INSERT');
      return BigInt(inserted!.rows[0].xid);
    } catch (error) {
      // Aborted before COMMIT ran: the transaction ended with the connection (never reused half-open).
      this.release(true);
      throw error;
    }
  }

  async commit(): Promise<void> {
    this.done = true;
    try {
      await this.query('COMMIT');
      this.release(false);
    } catch (error) {
      this.release(true);
      throw error;
    }
  }

  async rollback(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.query('ROLLBACK');
      this.release(false);
    } catch {
      this.release(true);
    }
  }
}
