/**
 * Messages between the SQLite journal (main thread) and its writer thread. The thread owns the
 * database connection: every read and write goes through it, in the order the main thread sent
 * them, so the event loop never waits on SQLite or on an fsync.
 */

/** One stored unit as it travels: its CRC and bytes, checked by the main thread when it decodes. */
export interface StoredBody {
  readonly crc: number;
  readonly body: Uint8Array;
}

export interface BatchRow extends StoredBody {
  readonly first: number;
  readonly last: number;
  readonly lastSeq: number;
}

export interface ArchiveRow extends StoredBody {
  readonly taskId: string;
  readonly projectId: string;
  readonly archivedAt: number;
  readonly expiresAt: number;
}

export interface CheckpointRow {
  readonly id: number;
  readonly header: string;
  readonly parts: number;
}

export interface OpenInfo {
  readonly created: boolean;
  readonly checkpoint: CheckpointRow | undefined;
  readonly lastLsn: number;
  readonly lastSeq: number;
}

export type Sync = 'FULL' | 'OFF';

export type Request =
  | { readonly op: 'open'; readonly path: string; readonly sync: Sync; readonly readonly: boolean }
  | { readonly op: 'append'; readonly row: BatchRow; readonly archives: readonly ArchiveRow[]; readonly deletes: readonly string[] }
  | { readonly op: 'read'; readonly after: number; readonly maxBytes: number }
  | { readonly op: 'readCheckpoint'; readonly checkpointId: number; readonly fromPart: number; readonly maxBytes: number }
  | { readonly op: 'checkpointBegin'; readonly lsn: number; readonly seq: number; readonly header: string }
  | { readonly op: 'checkpointPart'; readonly checkpointId: number; readonly part: number; readonly crc: number; readonly body: Uint8Array }
  | { readonly op: 'checkpointEnd'; readonly checkpointId: number; readonly parts: number }
  | { readonly op: 'drop'; readonly lsn: number; readonly keepSeqAbove: number }
  | { readonly op: 'readArchived'; readonly taskId: string }
  | { readonly op: 'expire'; readonly now: number }
  | { readonly op: 'probe' }
  | { readonly op: 'verify' }
  | { readonly op: 'archiveIds' }
  | { readonly op: 'close' };

/** A request and the number its reply comes back with (request fields never use `id`). */
export type Envelope = Request & { readonly id: number };

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly code: string | undefined; readonly message: string } };
