/**
 * Followers never skip (issue 11): a journal position is drawn when a row is inserted, so
 * transactions commit out of position order. These tests make them do so on the real server and
 * show that a follower applies every committed row exactly once, in position order, while a
 * reader that takes "everything after the last position it saw" loses the late row.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.js';
import { ChangeFeed } from '../../src/store/events.js';
import { realTimers } from '../../src/store/journal/index.js';
import type { JournalEntry } from '../../src/store/journal/entries.js';
import { PgJournal } from '../../src/store/journal/postgres/pg-journal.js';
import { DEFAULT_FOLLOWER, Follower } from '../../src/store/journal/shared/follower.js';
import { encodeEntries } from '../../src/store/journal/codec.js';
import { ORIGIN, positionText } from '../../src/store/journal/shared/position.js';
import { DATABASE_URL, dropSchema, newSchemaName, requirePostgres, sql } from './pg.js';
import { runs } from '../fc-runs.js';

const schema = newSchemaName();
let port: PgJournal;

beforeAll(async () => {
  await requirePostgres();
  port = await PgJournal.open({ url: DATABASE_URL, schema, poolSize: 12 });
});

afterAll(async () => {
  await port?.close();
  await dropSchema(schema);
});

const project = (id: string): JournalEntry => ({
  kind: 'project',
  project: Object.freeze({ id, bk_biz_id: null, name: `p${id}`, time_zone: 'UTC' }),
});

/** A follower over a fresh store that polls never (reads happen when the test says). */
function follower(): { follower: Follower; store: Store } {
  const store = new Store();
  const f = new Follower(
    port,
    store.attachJournal(),
    new ChangeFeed(() => undefined),
    realTimers,
    { ...DEFAULT_FOLLOWER, pollMs: 1e9 },
    () => undefined,
  );
  return { follower: f, store };
}

const projectIds = (store: Store): string[] =>
  store
    .snapshot()
    .projectsInOrder()
    .map((p) => p.id);

describe('positions compare as numbers', () => {
  it('xid 9 comes before xid 10 in reads, heads and checkpoints (never compared as text)', async () => {
    await sql(`TRUNCATE "${schema}".journal`);
    const body = (id: string) => encodeEntries([project(id)]);
    await sql(`INSERT INTO "${schema}".journal (xid, n, key, body) VALUES ('10', 0, '', $1), ('9', 0, '', $2), ('9', 1, '', $3)`, [
      body('10'),
      body('9'),
      body('91'),
    ]);
    const { rows } = await port.read(ORIGIN, 10);
    expect(rows.map((r) => positionText(r.position))).toEqual(['9.0', '9.1', '10.0']);
    const tx = await port.begin();
    expect(await tx.lock('', [''])).toEqual({ xid: 10n, n: 0 });
    await tx.rollback();
    await sql(`TRUNCATE "${schema}".journal`);
  });
});

describe('two transactions committing out of order', () => {
  it('the later-positioned one is held back until the earlier one ends; nothing is skipped or applied twice', async () => {
    await sql(`TRUNCATE "${schema}".journal`);
    const { follower: f, store } = follower();
    const first = await port.begin();
    const xFirst = await first.append([{ key: '', entry: project('1') }]);
    const second = await port.begin();
    const xSecond = await second.append([{ key: '', entry: project('2') }]);
    expect(xSecond).toBeGreaterThan(xFirst);
    await second.commit();

    // A reader that takes everything after the last position it saw sees the second row alone…
    const naive = await sql<{ xid: string }>(`SELECT xid::text FROM "${schema}".journal ORDER BY xid, n`);
    expect(naive.map((r) => BigInt(r.xid))).toEqual([xSecond]);
    // …while the follower holds it back: a transaction before it is still open.
    await f.catchUp(0);
    expect(f.entries).toBe(0);
    expect(projectIds(store)).toEqual([]);

    await first.commit();
    // The naive reader, now past the second row, never sees the first.
    const after = await sql(`SELECT 1 FROM "${schema}".journal WHERE xid > $1::xid8`, [xSecond.toString()]);
    expect(after).toEqual([]);
    // The follower applies both, in position order, once each.
    await f.catchUp(0);
    expect(projectIds(store)).toEqual(['1', '2']);
    expect(f.entries).toBe(2);
    await f.catchUp(0);
    expect(f.entries).toBe(2);
  });

  it('a rolled-back transaction leaves nothing to apply and holds nobody back once ended', async () => {
    await sql(`TRUNCATE "${schema}".journal`);
    const { follower: f, store } = follower();
    const doomed = await port.begin();
    await doomed.append([{ key: '', entry: project('7') }]);
    const kept = await port.begin();
    await kept.append([{ key: '', entry: project('8') }]);
    await kept.commit();
    await f.catchUp(0);
    expect(f.entries).toBe(0);
    await doomed.rollback();
    await f.catchUp(0);
    expect(projectIds(store)).toEqual(['8']);
  });

  it('any commit order of concurrent transactions, read between any two commits: each row applied once, in position order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 6 })
          .chain((k) =>
            fc.tuple(
              fc.shuffledSubarray([...Array(k).keys()], { minLength: k, maxLength: k }),
              fc.array(fc.boolean(), { minLength: k, maxLength: k }),
            ),
          ),
        async ([order, rollback]) => {
          await sql(`TRUNCATE "${schema}".journal`);
          const { follower: f, store } = follower();
          const txs = [];
          for (let i = 0; i < order.length; i++) {
            const tx = await port.begin();
            await tx.append([
              { key: '', entry: project(String(100 + 2 * i)) },
              { key: '', entry: project(String(101 + 2 * i)) },
            ]);
            txs.push(tx);
          }
          const seen: string[][] = [];
          for (const i of order) {
            if (rollback[i]) await txs[i].rollback();
            else await txs[i].commit();
            await f.catchUp(0);
            seen.push(projectIds(store));
          }
          const expected = order
            .map((_, i) => i)
            .filter((i) => !rollback[i])
            .flatMap((i) => [String(100 + 2 * i), String(101 + 2 * i)]);
          expect(projectIds(store)).toEqual(expected);
          expect(f.entries).toBe(expected.length);
          // what was applied at any moment is a prefix of the final order: never a later row before an earlier one
          for (const s of seen) expect(expected.slice(0, s.length)).toEqual(s);
        },
      ),
      { numRuns: runs('sharedJournalOrder') },
    );
  });
});
