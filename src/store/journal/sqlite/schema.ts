/**
 * The SQLite layout of a data directory: one database file, `pipestate.db` (with its WAL), holding
 *
 * - `meta`: the format name and version (a foreign or newer file is refused), and the last
 *   journal position written, updated in the same transaction as each batch: a journal whose
 *   rows end before it has lost rows, and is refused.
 * - `journal`: one row per group-commit batch (positions first..last), its entries as one
 *   CRC-checked body.
 * - `checkpoint` / `checkpoint_part`: the whole state at a position, in parts; a checkpoint counts
 *   only once its row says complete (set in the last transaction that writes it).
 * - `archive`: tasks that left memory (retention), one CRC-checked body each, until they expire.
 * - `probe`: scratch space for the write test after a failure.
 */
export const DATA_FILE = 'pipestate.db';
export const FORMAT_NAME = 'pipestate-journal';
export const FORMAT_VERSION = 1;

export const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE journal (
  first_lsn INTEGER PRIMARY KEY,
  last_lsn INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE TABLE checkpoint (
  id INTEGER PRIMARY KEY,
  lsn INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  header TEXT NOT NULL,
  parts INTEGER NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE checkpoint_part (
  checkpoint_id INTEGER NOT NULL,
  part INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (checkpoint_id, part)
) WITHOUT ROWID;
CREATE TABLE archive (
  task_id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  archived_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX archive_expiry ON archive (expires_at);
CREATE TABLE probe (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
`;

export const TABLES = ['meta', 'journal', 'checkpoint', 'checkpoint_part', 'archive', 'probe'] as const;
