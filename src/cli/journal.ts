/** `pipestate journal verify <dir>`: what the directory holds, and every problem found in it. */
import { ConfigError } from '../api/http/config.js';
import { JournalError, verifyJournal } from '../store/journal/index.js';
import { EXIT } from './status.js';

const n = (v: number): string => v.toLocaleString('en-US');

export async function runVerify(dir: string, out: (text: string) => void): Promise<number> {
  let report: Awaited<ReturnType<typeof verifyJournal>>;
  try {
    report = await verifyJournal(dir);
  } catch (error) {
    if (error instanceof JournalError) throw new ConfigError(error.message);
    throw error;
  }
  const lines = [`${report.problems.length === 0 ? 'ok' : 'PROBLEMS'}  ${report.location}`];
  const c = report.checkpoint;
  lines.push(
    c === undefined
      ? '  checkpoint: none yet'
      : `  checkpoint: at position ${n(c.lsn)} (seq ${n(c.seq)}), ${n(c.tasks)} tasks, ${n(c.nodes)} nodes, taken ${new Date(c.takenAt).toISOString()}`,
  );
  const r = report.recovery;
  if (r !== undefined) {
    lines.push(`  journal: ${n(r.changes)} entries after it, up to position ${n(r.lsn)}`);
    lines.push(`  state: ${n(r.projects)} projects, ${n(r.tasks)} tasks, ${n(r.nodes)} nodes; next seq ${n(r.seq + 1)}`);
  }
  lines.push(
    `  archive: ${n(report.archived)} tasks${report.expired > 0 ? ` (${n(report.expired)} expired, deleted at the next sweep)` : ''}`,
  );
  for (const p of report.problems) lines.push(`  problem: ${p}`);
  out(`${lines.join('\n')}\n`);
  return report.problems.length === 0 ? EXIT.ok : EXIT.refused;
}
