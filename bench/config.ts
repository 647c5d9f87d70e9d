/**
 * Run-wide settings: `--quick` shrinks sizes and time budgets for a smoke run under a minute;
 * the full run stays under ten minutes on 2 cores.
 */
export interface BenchConfig {
  readonly quick: boolean;
  /** nested task sizes */
  readonly sizes: readonly number[];
  /** branches of the wide pipeline */
  readonly wide: readonly number[];
  /** largest size the literal design is run at */
  readonly literalMax: number;
  /** tinybench budget per task, ms */
  readonly time: number;
  readonly warmupTime: number;
  /** minimum samples per task */
  readonly iterations: number;
  /** the subjects of a comparison take turns this many times; the budget is split over the rounds */
  readonly rounds: number;
}

export function configFrom(argv: readonly string[]): BenchConfig {
  const quick = argv.includes('--quick');
  return quick
    ? { quick, sizes: [1e3, 1e4], wide: [1e4], literalMax: 1e3, time: 40, warmupTime: 15, iterations: 8, rounds: 1 }
    : { quick, sizes: [1e3, 1e4, 1e5, 1e6], wide: [1e4, 1e5], literalMax: 1e5, time: 600, warmupTime: 100, iterations: 30, rounds: 3 };
}

/** Fan-out and depth for each size: subprocesses nest at least 3 levels deep. */
export function shapeOf(nodes: number): { nodes: number; fanOut: number; depth: number } {
  if (nodes <= 1e3) return { nodes, fanOut: 5, depth: 4 };
  if (nodes <= 1e4) return { nodes, fanOut: 10, depth: 4 };
  if (nodes <= 1e5) return { nodes, fanOut: 10, depth: 5 };
  return { nodes, fanOut: 10, depth: 6 };
}
