/**
 * What a benchmark drives: pipestate or one of its baselines, holding one task. Each subject owns
 * its timed loop (`run`), so that the call site inside the loop sees one class only and the
 * comparison measures the subjects, not a polymorphic dispatch shared between them.
 */
import type { Batch } from './workloads.js';

export interface Subject {
  /** Applies the batch's operations in order; a refusal throws (a bug in the workload). */
  run(batch: Batch): void;
  /** Applies operations one by one, untimed: preludes and drivers. */
  applyAll(ids: readonly string[], ops: ArrayLike<number>): void;
}

export type SubjectFactory = () => Subject;
