/**
 * How many runs every fast-check property makes, in one place.
 *
 * `FC_RUNS` (default 1,000) scales them all: each property's count below is what it runs at the
 * default, and `FC_RUNS=10000 npm test` runs ten times as many cases everywhere (`FC_RUNS=100`
 * a tenth, never fewer than the minimum). A property that names no count runs `default`
 * (fast-check's own 100 at the default scale), set for every test file by test/fc-setup.ts.
 *
 * A failing property prints its seed and path (fast-check's own report). To replay it:
 * `FC_SEED=<seed> FC_PATH=<path> npx vitest run <file> -t '<test name>'`.
 */

/** Runs at FC_RUNS=1000, per property. Add a row for a new property (docs/testing.md). */
export const RUNS_AT_DEFAULT = {
  default: 100,
  /** test/store/model.property.test.ts: the model-based suite, the widest net */
  storeModel: 1000,
  /** test/store/wide.property.test.ts: long runs over thousands of nodes */
  storeWide: 50,
  /** test/query/status.property.test.ts: runs of up to 120 steps, every answer checked */
  queryStatus: 150,
  /** test/query/time.property.test.ts: cheap, and the instant space is wide */
  queryTime: 3000,
  /** test/model/definition.test.ts */
  modelDefinition: 300,
  /** test/api/never-throws.property.test.ts: cheap requests of any shape */
  apiNeverThrows: 3000,
  /** the same file: runs of up to 8 well-formed requests on a fresh engine */
  apiWellFormed: 300,
  /** test/http/fuzz.property.test.ts: a real HTTP round trip each */
  httpFuzz: 300,
  httpFuzzBytes: 200,
  /** test/cli/render.test.ts */
  cliRender: 200,
  /** test/store/delete.property.test.ts: deletions among snapshots */
  storeDelete: 200,
  /** test/store/rollup.property.test.ts: every subtree walked after each run */
  storeRollup: 50,
  /** test/store/history.property.test.ts */
  storeHistory: 300,
  /** test/store/task-list-index.test.ts */
  storeTaskListIndex: 100,
  /** test/store/trie.test.ts: class counts over growth and old versions; forEachInRange */
  storeTrieCounts: 200,
  storeTrieRange: 200,
  /** test/journal/replay.property.test.ts: over the in-memory port, and over real SQLite (a thread per open) */
  journalReplay: 200,
  journalReplaySqlite: 5,
  /** test/journal/storage-faults.test.ts: a child process per run */
  journalStorageFaults: 25,
  /** test/shared/journal-order.test.ts: PostgreSQL round trips */
  sharedJournalOrder: 25,
  /** test/web/task-model.test.ts */
  webTaskModel: 25,
  /** test/http/sliced-json.property.test.ts: JSON values; odd values; long strings; status answers */
  slicedJson: 500,
  slicedJsonOdd: 500,
  slicedJsonStrings: 300,
  slicedJsonStatus: 100,
} as const satisfies Record<string, number>;

/** Fewer runs than this and a property stops meaning anything. */
const MIN_RUNS: Partial<Record<keyof typeof RUNS_AT_DEFAULT, number>> = {
  storeWide: 10,
  storeRollup: 20,
  journalReplay: 20,
  journalReplaySqlite: 3,
  journalStorageFaults: 20,
  // Both count what they reached and fail on a count of 0, so fewer runs fail by chance: about
  // 1 request in 60 is answered with code 0 (104 of 6,000 measured; 1,000 runs fail 1 time in
  // 10^7, 600 runs 1 in 20,000), and 300 well-formed runs see about 25 operate_node successes.
  apiNeverThrows: 1000,
  apiWellFormed: 300,
};

const DEFAULT_SCALE = 1000;

export function parseRuns(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_SCALE;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`FC_RUNS must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
}

export const FC_RUNS = parseRuns(process.env.FC_RUNS);

/** The run count of a property when FC_RUNS is `scale`. */
export function runsAt(property: keyof typeof RUNS_AT_DEFAULT, scale: number): number {
  return Math.max(MIN_RUNS[property] ?? 1, Math.round((RUNS_AT_DEFAULT[property] * scale) / DEFAULT_SCALE));
}

/** The run count of a property at the current FC_RUNS. */
export const runs = (property: keyof typeof RUNS_AT_DEFAULT): number => runsAt(property, FC_RUNS);

/** FC_SEED / FC_PATH: replay one failure (fast-check printed both). */
export function replayFromEnv(env: NodeJS.ProcessEnv = process.env): { seed?: number; path?: string } {
  const out: { seed?: number; path?: string } = {};
  if (env.FC_SEED !== undefined && env.FC_SEED !== '') {
    const seed = Number(env.FC_SEED);
    if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, not ${JSON.stringify(env.FC_SEED)}`);
    out.seed = seed;
  }
  if (env.FC_PATH !== undefined && env.FC_PATH !== '') out.path = env.FC_PATH;
  return out;
}

/**
 * A property shared by two tests (one that it holds, one that its runs reached what matters), run
 * once per file by whichever test comes first, so that each passes or fails the same alone (`-t`),
 * shuffled or together. A failure is not remembered: the other test runs it again and fails too.
 */
export function runOnce<T>(run: () => T): () => T {
  let done: { readonly value: T } | undefined;
  return () => {
    done ??= { value: run() };
    return done.value;
  };
}
