/**
 * `pipestate journal verify <dir>`: everything recovery would check, and more, without changing
 * the directory (SQLite opens it read-only; a running pipestate holds it, and is named). SQLite's
 * own integrity check of every page, then a full recovery into a scratch store (every checksum,
 * position, seq and change checked against the state it lands on), then every archived task
 * read back and rebuilt.
 */
import { Store } from '../store.js';
import { JournalError } from './errors.js';
import { taskFromParts } from './hold.js';
import type { CheckpointHeader } from './port.js';
import { recover, type RecoveryReport } from './recovery.js';
import { SqliteJournal } from './sqlite/sqlite-journal.js';

export interface VerifyReport {
  readonly location: string;
  /** empty when the directory is sound */
  readonly problems: readonly string[];
  readonly checkpoint: CheckpointHeader | undefined;
  /** the state it recovers to, when it does */
  readonly recovery: RecoveryReport | undefined;
  readonly archived: number;
  /** archived tasks past their expiry, still stored until the next sweep */
  readonly expired: number;
}

const messageOf = (e: unknown): string => (e instanceof JournalError ? e.reason : (e as Error).message);

export async function verifyJournal(dir: string, now: number = Date.now()): Promise<VerifyReport> {
  const port = await SqliteJournal.open(dir, { sync: false, readonly: true });
  const problems: string[] = [];
  let recovery: RecoveryReport | undefined;
  let archived = 0;
  let expired = 0;
  try {
    for (const p of await port.integrityProblems()) problems.push(`SQLite: ${p}`);
    const store = new Store();
    const hold = store.attachJournal();
    try {
      recovery = (await recover(port, hold, 0)).report;
    } catch (error) {
      problems.push(messageOf(error));
    }
    for (const taskId of await port.archivedIds()) {
      try {
        const a = await port.readArchived(taskId);
        if (a === undefined) continue;
        archived++;
        if (a.expiresAt <= now) expired++;
        if (recovery !== undefined) taskFromParts(a.parts, (id) => hold.project(id));
      } catch (error) {
        problems.push(`archived task ${taskId}: ${messageOf(error)}`);
      }
    }
    return { location: port.location, problems, checkpoint: (await port.state()).checkpoint, recovery, archived, expired };
  } finally {
    await port.close();
  }
}
