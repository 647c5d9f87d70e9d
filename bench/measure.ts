/**
 * Measuring with tinybench. Operations take 0.1–1000 µs, many below what one timer call resolves
 * well, so a sample is one batch of operations timed as a whole and divided by its length
 * (tinybench's `overriddenDuration`); the reported figure is the median of those per-operation
 * means. Batches are generated and subjects rebuilt outside the timed region.
 *
 * The machine is shared (2 cores), so the subjects of one comparison are measured in rounds,
 * taking turns, and each one's samples are pooled over its rounds: a burst of load elsewhere then
 * lands on every subject of the comparison, not on one, and the ratios hold.
 */
import { Bench, type FnReturnedObject } from 'tinybench';
import type { BenchConfig } from './config.js';
import type { Subject } from './subject.js';
import type { Batch, OpSource } from './workloads.js';

export interface Timing {
  /** median, ns per operation (or per call) */
  readonly median: number;
  /**
   * mean, ns per operation: unlike the median it carries the collector's pauses, which land in
   * few batches but are paid for by all of them
   */
  readonly mean: number;
  readonly samples: number;
  /** median absolute deviation, ns */
  readonly mad: number;
}

export interface OpTiming extends Timing {
  /** median ns per operation of each operation kind (random workload) */
  readonly byKind: Readonly<Record<string, number>>;
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function timingOf(xs: readonly number[]): Timing {
  const m = median(xs);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { median: m, mean, samples: xs.length, mad: median(xs.map((x) => Math.abs(x - m))) };
}

/** Runs one tinybench task and returns its samples in ns, warmup excluded. */
async function samplesOf(
  name: string,
  fn: () => FnReturnedObject,
  config: BenchConfig,
  minSamples: number,
  warmup: boolean,
): Promise<number[]> {
  const bench = new Bench({
    time: config.time / config.rounds,
    warmup,
    warmupTime: config.warmupTime,
    iterations: Math.ceil(minSamples / config.rounds),
    warmupIterations: 2,
    retainSamples: true,
  });
  bench.add(name, fn, { async: false });
  await bench.run();
  const r = bench.getTask(name)!.result;
  if (r.state === 'errored') throw r.error;
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') throw new Error(`${name}: ${r.state}`);
  return [...(r.latency.samples ?? [])].map((ms) => ms * 1e6);
}

export interface OpRun {
  /** a new subject at the workload's starting state, and its operations: called again when a sequence runs out */
  readonly fresh: () => { readonly subject: Subject; readonly source: OpSource };
  readonly batch: Batch;
  /** share of the configured time budget (the literal design gets less) */
  readonly scale?: number;
}

/** One subject replaying one workload, measured over several rounds. */
export class OpMeasurer {
  private subject: Subject | undefined;
  private source: OpSource | undefined;
  private readonly samples: number[] = [];
  private readonly byKind = new Map<string, number[]>();

  constructor(
    readonly name: string,
    private readonly run: OpRun,
  ) {}

  async round(config: BenchConfig): Promise<void> {
    if (!this.subject) ({ subject: this.subject, source: this.source } = this.run.fresh());
    const { batch } = this.run;
    let measuring = false;
    const fn = (): FnReturnedObject => {
      if (!this.source!.fill(batch)) {
        ({ subject: this.subject, source: this.source } = this.run.fresh());
        this.source.fill(batch);
      }
      const t0 = performance.now();
      this.subject!.run(batch);
      const dt = performance.now() - t0;
      if (measuring && batch.kind !== undefined) {
        const xs = this.byKind.get(batch.kind) ?? [];
        xs.push((dt / batch.length) * 1e6);
        this.byKind.set(batch.kind, xs);
      }
      return { overriddenDuration: dt / batch.length, overriddenIterationCost: dt };
    };
    // Per-kind samples are taken by hand: the warmup's must be left out, as tinybench does.
    const bench = new Bench({
      time: (config.time * (this.run.scale ?? 1)) / config.rounds,
      warmupTime: config.warmupTime * (this.run.scale ?? 1),
      iterations: Math.ceil(config.iterations / config.rounds),
      warmupIterations: 2,
      retainSamples: true,
    });
    bench.add(this.name, fn, {
      async: false,
      beforeAll: (mode) => {
        measuring = mode === 'run';
      },
    });
    await bench.run();
    const r = bench.getTask(this.name)!.result;
    if (r.state === 'errored') throw r.error;
    if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') throw new Error(`${this.name}: ${r.state}`);
    for (const ms of r.latency.samples ?? []) this.samples.push(ms * 1e6);
  }

  /** Lets the subject go (its tree can be large); the samples stay. */
  release(): void {
    this.subject = undefined;
    this.source = undefined;
  }

  timing(): OpTiming {
    return { ...timingOf(this.samples), byKind: Object.fromEntries([...this.byKind].map(([k, xs]) => [k, median(xs)])) };
  }
}

/** Measures the subjects in turns, `config.rounds` times, releasing each tree at the end. */
export async function compare(measurers: readonly OpMeasurer[], config: BenchConfig, onDone?: (m: OpMeasurer) => void): Promise<void> {
  for (let r = 0; r < config.rounds; r++) for (const m of measurers) await m.round(config);
  for (const m of measurers) {
    m.release();
    onDone?.(m);
  }
}

/**
 * Median ns per call of each `fn`, measured in turns (rounds) as `compare` does for operations.
 * `prepare` runs untimed before each sample; `repeat` calls make one sample when one call is too
 * short to time alone; `minSamples` lowers the sample floor and `warmup: false` skips tinybench's
 * warmup for calls that take seconds (they are warm after their first call, made by the caller).
 */
export async function compareCalls(
  calls: readonly { readonly name: string; readonly fn: () => unknown; readonly prepare?: () => void; readonly repeat?: number }[],
  config: BenchConfig,
  options: { readonly minSamples?: number; readonly warmup?: boolean } = {},
): Promise<Timing[]> {
  const pooled = calls.map(() => [] as number[]);
  let sink = 0;
  for (let r = 0; r < config.rounds; r++) {
    for (const [i, c] of calls.entries()) {
      const repeat = c.repeat ?? 1;
      pooled[i].push(
        ...(await samplesOf(
          c.name,
          (): FnReturnedObject => {
            c.prepare?.();
            const t0 = performance.now();
            for (let k = 0; k < repeat; k++) if (c.fn() !== undefined) sink++;
            const dt = performance.now() - t0;
            return { overriddenDuration: dt / repeat, overriddenIterationCost: dt };
          },
          config,
          options.minSamples ?? config.iterations,
          options.warmup ?? true,
        )),
      );
    }
  }
  if (sink < 0) console.error(sink);
  return pooled.map(timingOf);
}
