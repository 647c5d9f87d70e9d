/** Durability for the store: the journal port, its SQLite implementation, recovery, group commit, checkpoints, retention. */
export { Durability, DEFAULT_DURABILITY, type DurabilityOptions } from './durability.js';
export type { JournalStatus } from './sink.js';
export { DURABILITY_MODES, DEFAULT_GROUP_COMMIT, type DurabilityMode, type GroupCommitOptions } from './group-commit.js';
export { DEFAULT_CHECKPOINT, type CheckpointOptions, type CheckpointReport } from './checkpointer.js';
export { DEFAULT_RETENTION, checkRetention, type RetentionOptions, type SweepReport } from './retention.js';
export type { RecoveryReport } from './recovery.js';
export { JournalError, journalUnavailable } from './errors.js';
export type { JournalPort, CheckpointHeader, CheckpointPart, DecodedCheckpointPart, StoredState, ArchivedTask } from './port.js';
export type { JournalEntry, JournalBatch } from './entries.js';
export { realTimers, type Timers, type TimerHandle } from './timers.js';
export { SqliteJournal, type SqliteJournalOptions } from './sqlite/sqlite-journal.js';
export { DATA_FILE } from './sqlite/schema.js';
export { verifyJournal, type VerifyReport } from './verify.js';
