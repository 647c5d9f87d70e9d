/**
 * The journal's two kinds of failure. At open and recovery a data directory that cannot be used
 * is a JournalError naming the path and the cause: the service refuses to start rather than run on
 * a state it cannot vouch for. While running, a write the journal cannot take is refused to the
 * caller as 3599999 "journal unavailable"; reads go on.
 */
import { ERROR_CODES, PipestateError } from '../../model/index.js';

export class JournalError extends Error {
  override readonly name = 'JournalError';
  /** `${path}: ${reason}` */
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${reason}`, options);
  }
}

/** The refusal a write gets while the journal cannot take it; the message says why in words a client may see. */
export const journalUnavailable = (why: string): PipestateError =>
  new PipestateError(ERROR_CODES.unexpected, `journal unavailable: ${why}`);

/** A short, client-safe reason for a storage failure: the error code when there is one (ENOSPC, SQLITE_FULL…). */
export function storageReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return 'the storage refused a write';
  // SQLITE_IOERR_WRITE and friends: the family's reason
  const family = Object.keys(REASONS).find((k) => code === k || code.startsWith(`${k}_`));
  return family === undefined ? code : REASONS[family];
}

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  SQLITE_FULL: 'the disk is full',
  EROFS: 'the file system is read-only',
  SQLITE_READONLY: 'the storage is read-only',
  EACCES: 'permission denied',
  EIO: 'an I/O error',
  SQLITE_IOERR: 'an I/O error',
  SQLITE_CORRUPT: 'the storage is corrupt',
};
