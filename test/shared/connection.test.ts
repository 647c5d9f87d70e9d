/** Reaching PostgreSQL: options and their defaults, URLs as messages show them, reasons a client may see. */
import { describe, expect, it } from 'vitest';
import { databaseReason, redactUrl } from '../../src/store/journal/postgres/connection.js';
import { connectOptions } from '../../src/store/journal/postgres/pg-journal.js';

describe('connection options', () => {
  it('an option given as undefined takes its default (the schema is "pipestate", commits are synchronous)', () => {
    expect(connectOptions({ url: 'postgres://h/db', schema: undefined, poolSize: undefined, synchronousCommit: undefined }))
      .toEqual({ url: 'postgres://h/db', schema: 'pipestate', poolSize: 10, connectTimeoutMs: 5_000, synchronousCommit: true });
    expect(connectOptions({ url: 'postgres://h/db', schema: 'blue', synchronousCommit: false })).toMatchObject({ schema: 'blue', synchronousCommit: false });
  });

  it('a URL is shown without its password', () => {
    expect(redactUrl('postgres://ops:hunter2@db.internal:5432/pipestate')).toBe('postgres://ops:***@db.internal:5432/pipestate');
    expect(redactUrl('postgres://db.internal/pipestate')).toBe('postgres://db.internal/pipestate');
    expect(redactUrl('host=db user=ops password=hunter2 dbname=x')).toBe('host=db user=ops password=*** dbname=x');
  });

  it('failures are said in words, never with internals', () => {
    expect(databaseReason({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:5432' })).toBe('the database refused the connection (is it running?)');
    expect(databaseReason({ code: '57P01' })).toBe('the database is shutting down');
    expect(databaseReason({ code: '42P01' })).toBe('the database answered SQLSTATE 42P01');
    expect(databaseReason(new Error('Connection terminated unexpectedly'))).toBe('the connection to the database was lost');
    expect(databaseReason(new Error('query read timeout'))).toBe('the database did not answer in time');
    expect(databaseReason('???')).toBe('the database could not be reached');
  });
});
