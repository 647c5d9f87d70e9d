/**
 * The clock-independent text of runtime records, memoized per record (DESIGN.md, "Immutable
 * records make answers memoizable"). A record never changes, so its times, once formatted in
 * its project's zone, are good for every later query; only an attempt still under way (started,
 * not finished) has an elapsed time that grows with the clock.
 *
 * Where the memo lives was measured. A WeakMap<NodeRecord, …> is the obvious home, but at 10^6
 * entries V8's ephemeron marking made every full GC of the process ~7× slower (1.6 s vs 0.23 s),
 * filling it ~3× slower and reading it ~4× slower than this: one slot per node of the task, in
 * an array indexed by preorder number, holding the record it was computed from. A hit is an
 * array read and an identity compare; a record replaced by an operation simply misses once.
 * The arrays hang off the task's definition (shared by all its snapshots) through a WeakMap
 * with one entry per task.
 */
import type { NodeRecord } from '../lifecycle/index.js';
import type { PipelineDefinition } from '../model/index.js';
import type { TaskView } from '../store/index.js';
import { elapsedSeconds } from './elapsed.js';
import { isoUtcText } from './time-text.js';
import { ZonedTimeFormat } from './zoned-format.js';

/** `elapsed_time` of an attempt still under way: computed from the clock at each query. */
export const GROWING = -1;

export interface RecordTimes {
  /** the record these were computed from */
  readonly record: NodeRecord;
  readonly start_time: string;
  readonly finish_time: string;
  readonly state_refresh_at: string;
  /** whole seconds, or GROWING */
  readonly elapsed_time: number;
}

export class TaskTimes {
  private readonly slots: (RecordTimes | undefined)[];

  constructor(
    private readonly format: ZonedTimeFormat,
    size: number,
  ) {
    this.slots = new Array<RecordTimes | undefined>(size);
  }

  /** The times of node i's record. */
  of(i: number, record: NodeRecord): RecordTimes {
    const slot = this.slots[i];
    if (slot !== undefined && slot.record === record) return slot;
    const times = recordTimes(record, this.format);
    this.slots[i] = times;
    return times;
  }

  /** Any instant of this task as text in its project's zone (a task's create_time). */
  text(ms: number): string {
    return this.format.format(ms);
  }

  /** Times of a record that is no node's current one (an ended attempt): not memoized. */
  ofAttempt(record: NodeRecord): RecordTimes {
    return recordTimes(record, this.format);
  }
}

/** The record's `elapsed_time` at `now`. */
export const elapsedAt = (times: RecordTimes, now: number): number =>
  times.elapsed_time === GROWING ? elapsedSeconds(times.record.started_at, now) : times.elapsed_time;

function recordTimes(r: NodeRecord, format: ZonedTimeFormat): RecordTimes {
  const underWay = r.started_at !== null && r.finished_at === null;
  return {
    record: r,
    start_time: r.started_at === null ? '' : format.format(r.started_at),
    finish_time: r.finished_at === null ? '' : format.format(r.finished_at),
    state_refresh_at: isoUtcText(r.state_refresh_at),
    elapsed_time: underWay ? GROWING : elapsedSeconds(r.started_at, r.finished_at ?? 0),
  };
}

/** One formatter per zone for the life of the process: zones are few (one per project at most). */
const formats = new Map<string, ZonedTimeFormat>();
const byDefinition = new WeakMap<PipelineDefinition, TaskTimes>();

export function timesOf(task: TaskView): TaskTimes {
  let times = byDefinition.get(task.definition);
  if (times === undefined) {
    const zone = task.project.time_zone;
    let format = formats.get(zone);
    if (format === undefined) {
      format = new ZonedTimeFormat(zone);
      formats.set(zone, format);
    }
    times = new TaskTimes(format, task.definition.size);
    byDefinition.set(task.definition, times);
  }
  return times;
}
