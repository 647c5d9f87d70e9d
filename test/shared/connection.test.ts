/** Reaching PostgreSQL: options and their defaults, URLs as messages show them, reasons a client may see. */
import { describe, expect, it } from 'vitest';
import { databaseReason, redactUrl } from '../../src/store/journal/postgres/connection.js';
import { connectOptions } from '../../src/store/journal/postgres/pg-journal.js';

describe('connection options', () => {
  it('an option given as undefined takes its default (the schema is "pipestate", commits are synchronous)', () => {
    expect(connectOptions({ url: 'postgres://h/db', schema: undefined, poolSize: undefined, synchronousCommit: undefined })).toEqual({
      url: 'postgres://h/db',
      schema: 'pipestate',
      poolSize: 10,
      connectTimeoutMs: 5_000,
      synchronousCommit: true,
    });
    expect(connectOptions({ url: 'postgres://h/db', schema: 'blue', synchronousCommit: false })).toMatchObject({
      schema: 'blue',
      synchronousCommit: false,
    });
  });

  it('a URL is shown without its password', () => {
    expect(redactUrl('postgres://ops:hunter2@db.internal:5432/pipestate')).toBe('postgres://ops:***@db.internal:5432/pipestate');
    expect(redactUrl('postgres://db.internal/pipestate')).toBe('postgres://db.internal/pipestate');
    expect(redactUrl('host=db user=ops password=hunter2 dbname=x')).toBe('host=db user=ops password=*** dbname=x');
  });

  it('failures are said in words, never with internals', () => {
    expect(databaseReason({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:5432' })).toBe(
      'the database refused the connection (is it running?)',
    );
    expect(databaseReason({ code: '57P01' })).toBe('the database is shutting down');
    expect(databaseReason({ code: '42P01' })).toBe('the database answered SQLSTATE 42P01');
    expect(databaseReason(new Error('Connection terminated unexpectedly'))).toBe('the connection to the database was lost');
    expect(databaseReason(new Error('query read timeout'))).toBe('the database did not answer in time');
    expect(databaseReason('???')).toBe('the database could not be reached');
  });
});

describe('database_url in the configuration', () => {
  it('is read, kept beside an app from the environment, and refused when it is not a postgres URL', async () => {
    const { parseConfig, resolveConfig, ConfigError } = await import('../../src/api/http/config.js');
    expect(parseConfig({ projects: [], database_url: 'postgres://db/ops' }, 'c.json').database_url).toBe('postgres://db/ops');
    expect(() => parseConfig({ database_url: 'mysql://db/ops' }, 'c.json')).toThrow(
      new ConfigError('c.json: database_url must be a postgres:// URL'),
    );
    expect(() => parseConfig({ database_url: 7 }, 'c.json')).toThrow(/database_url must be a non-empty string/);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'pipestate-cfg-')), 'c.json');
    writeFileSync(file, JSON.stringify({ database_url: 'postgresql://db/ops' }));
    expect(resolveConfig(file, { PIPESTATE_APP_CODE: 'a', PIPESTATE_APP_SECRET: 's' })).toMatchObject({
      database_url: 'postgresql://db/ops',
      apps: [{ bk_app_code: 'a' }],
    });
  });
});
