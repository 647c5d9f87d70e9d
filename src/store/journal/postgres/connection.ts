/**
 * Reaching PostgreSQL: a database URL as messages may show it (never its password), the
 * connection pool with the session settings every pipestate connection runs under, and the
 * short, client-safe reason a failure is reported with.
 */
import pg from 'pg';
import { JournalError } from '../errors.js';

/** The URL with its password replaced by `***` (and as given when it does not parse). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    // Not a URL (a key=value connection string): hide anything that looks like a password.
    return url.replace(/(password\s*=\s*)(\S+)/gi, '$1***');
  }
}

/** A schema name pipestate may create and use: a plain lower-case SQL identifier. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ConnectOptions {
  readonly url: string;
  /** the schema holding pipestate's tables; created when missing */
  readonly schema: string;
  /** connections in the pool (commands run one transaction each); default 10 */
  readonly poolSize: number;
  /** ms to establish a connection before giving up; default 5,000 */
  readonly connectTimeoutMs: number;
  /**
   * true (default): a command is acknowledged once PostgreSQL has flushed its commit to disk.
   * false: once committed in PostgreSQL's memory (`synchronous_commit = off`): a crash of the
   * database server (not of pipestate) can lose the last acknowledged commands (at most about
   * three `wal_writer_delay`, 600 ms by default); the database stays consistent.
   */
  readonly synchronousCommit: boolean;
}

export const DEFAULT_CONNECT: Omit<ConnectOptions, 'url'> = {
  schema: 'pipestate',
  poolSize: 10,
  connectTimeoutMs: 5_000,
  synchronousCommit: true,
};

/**
 * Session settings: a transaction left idle by a client that vanished (a partition, a stuck
 * process) would hold its task lock and, with an xid, hold every follower back; the server ends
 * it. Statement timeouts bound a query the database cannot answer.
 */
const SESSION = {
  idle_in_transaction_session_timeout: 10_000,
  statement_timeout: 30_000,
};

export function newPool(o: ConnectOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolSize,
    connectionTimeoutMillis: o.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'pipestate',
    ...SESSION,
    ...(o.synchronousCommit ? {} : { options: '-c synchronous_commit=off' }),
  });
  // An idle connection the server closed: the pool drops it; the next query opens another.
  pool.on('error', () => undefined);
  return pool;
}

export function newClient(o: ConnectOptions): pg.Client {
  return new pg.Client({ connectionString: o.url, connectionTimeoutMillis: o.connectTimeoutMs, application_name: 'pipestate', ...SESSION });
}

/** Why the database refused or could not be reached, in words a client may see (no internals). */
export function databaseReason(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) return `the database answered SQLSTATE ${code}`;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/timeout/i.test(message)) return 'the database did not answer in time';
  if (/terminat|Connection ended|closed/i.test(message)) return 'the connection to the database was lost';
  return 'the database could not be reached';
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'the database refused the connection (is it running?)',
  ECONNRESET: 'the connection to the database was reset',
  ENOTFOUND: 'the database host name does not resolve',
  EHOSTUNREACH: 'the database host is unreachable',
  ETIMEDOUT: 'the database did not answer in time',
  EPIPE: 'the connection to the database was lost',
  '57P01': 'the database is shutting down',
  '57P03': 'the database is starting up',
  '53300': 'the database has no connection slot left',
  '28P01': 'the database refused the password',
  '28000': 'the database refused the role',
  '3D000': 'the database does not exist',
  '25P03': 'a transaction stayed idle too long',
};

/** A failure at open, naming the URL (password hidden) and the cause. */
export function openFailure(url: string, error: unknown): JournalError {
  const detail = (error as { message?: unknown } | null)?.message;
  const why = databaseReason(error) + (typeof detail === 'string' && detail !== '' ? ` (${redactMessage(detail, url)})` : '');
  return new JournalError(redactUrl(url), why, { cause: error });
}

/** A driver message may quote the URL: hide its password there too. */
function redactMessage(message: string, url: string): string {
  try {
    const password = new URL(url).password;
    return password === '' ? message : message.split(decodeURIComponent(password)).join('***');
  } catch {
    return message;
  }
}
