/**
 * Recovery: the latest complete checkpoint, then every journal entry after it, replayed through
 * the hold. Before anything is trusted it is checked: each stored unit against its CRC (the
 * port), positions without gaps from the checkpoint to the last position written, seqs without
 * gaps, and each change against the node it lands on (the hold). Any of these failing refuses
 * the directory with a JournalError; recovery never guesses.
 *
 * The changes of the tail (including the rows a checkpoint keeps for this) are handed back so
 * that watchers holding a cursor from before the restart resume without a gap.
 */
import type { NodeChange } from '../events.js';
import { TaskAssembler } from './codec.js';
import { JournalError } from './errors.js';
import { ReplayMismatch, type JournalHold } from './hold.js';
import type { JournalPort } from './port.js';

export interface RecoveryReport {
  readonly projects: number;
  readonly tasks: number;
  readonly nodes: number;
  /** entries replayed after the checkpoint */
  readonly changes: number;
  /** the checkpoint's position, 0 without one */
  readonly checkpointLsn: number;
  /** the last journal position: new entries continue after it */
  readonly lsn: number;
  readonly seq: number;
  readonly seconds: number;
}

export interface Recovered {
  readonly report: RecoveryReport;
  /** the last node changes journaled (oldest first), for watchers resuming across the restart */
  readonly recent: readonly NodeChange[];
}

export async function recover(port: JournalPort, hold: JournalHold, keepRecent: number, now = () => performance.now()): Promise<Recovered> {
  const started = now();
  const mismatch = (error: unknown): never => {
    if (error instanceof ReplayMismatch || error instanceof TypeError) {
      throw new JournalError(port.location, `does not replay: ${error.message}`, { cause: error });
    }
    throw error;
  };
  const stored = await port.state();
  const checkpoint = stored.checkpoint;
  try {
    if (checkpoint !== undefined) {
      const assembler = new TaskAssembler(
        (task, definition) => hold.addTask(task, definition, undefined),
        (part) => hold.fillTask(part),
      );
      for await (const part of port.readCheckpoint()) {
        if (part.kind === 'projects') for (const p of part.projects) hold.addProject(p);
        else assembler.push(part);
      }
      assembler.end();
      hold.startAt(checkpoint.seq, checkpoint.highestTaskId);
    }
  } catch (error) {
    mismatch(error);
  }

  const from = checkpoint?.lsn ?? 0;
  let position = from;
  let previous: number | undefined;
  let replayed = 0;
  const recent: NodeChange[] = [];
  try {
    for await (const batch of port.read(0)) {
      if (previous !== undefined && batch.first !== previous + 1) {
        throw new JournalError(port.location, `journal positions ${previous + 1}..${batch.first - 1} are missing`);
      }
      previous = batch.last;
      batch.entries.forEach((entry, k) => {
        if (entry.kind === 'nodes') for (const c of entry.changes) recent.push(c);
        const at = batch.first + k;
        if (at <= from) return;
        if (at !== position + 1) throw new JournalError(port.location, `journal positions ${position + 1}..${at - 1} are missing`);
        hold.replay(entry);
        position = at;
        replayed++;
      });
      if (recent.length > 2 * keepRecent) recent.splice(0, recent.length - keepRecent);
    }
  } catch (error) {
    mismatch(error);
  }
  if (position !== Math.max(from, stored.lastLsn)) {
    throw new JournalError(
      port.location,
      `the journal ends at position ${position} but ${stored.lastLsn} was written: entries are missing`,
    );
  }
  if (stored.lastLsn > 0 && hold.seq !== stored.lastSeq) {
    throw new JournalError(
      port.location,
      `the journal replays to seq ${hold.seq} but seq ${stored.lastSeq} was written: entries are missing`,
    );
  }
  const snap = hold.snapshot();
  let nodes = 0;
  for (const t of snap.tasksInOrder()) nodes += t.definition.size;
  return {
    report: {
      projects: snap.projectsInOrder().length,
      tasks: snap.size,
      nodes,
      changes: replayed,
      checkpointLsn: from,
      lsn: position,
      seq: hold.seq,
      seconds: (now() - started) / 1000,
    },
    recent: recent.slice(-keepRecent),
  };
}
