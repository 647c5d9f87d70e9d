/**
 * Section 2: get_task_status of the whole tree and of a deep subprocess, at every size, against
 * JSON.stringify of the same answer object. Also on the wide pipeline.
 *
 * Each task is driven 60% through its frontier pass first: the reached part answered (finished,
 * retried and skipped nodes, a frontier of running subprocesses), the rest CREATED and so left
 * out of the answer as the seed does. Between two samples one more frontier operation is applied
 * (untimed), so every sample reads a new snapshot, as a poller's queries would.
 */
import { createEngine, type Engine } from '../src/api/engine.js';
import { UNBOUNDED } from './pipestate-subject.js';
import { MACHINE_OPERATIONS, type Operation } from '../src/lifecycle/index.js';
import { shapeOf, type BenchConfig } from './config.js';
import { compareCalls, type Timing } from './measure.js';
import { check, ns, progress, ratio, type Check, type SectionResult, type Table } from './report.js';
import { nestedPipeline, widePipeline, type Tree } from './trees.js';
import { FrontierSource, frontierPrefix, Batch } from './workloads.js';

const PROGRESS = 0.6;
const NAMES = MACHINE_OPERATIONS as readonly Operation[];

interface Row {
  readonly tree: string;
  readonly nodes: number;
  readonly query: 'whole tree' | 'deep subprocess';
  /** nodes in the answer */
  readonly answered: number;
  readonly status: Timing;
  readonly stringify: Timing;
  /** bytes of the JSON answer */
  readonly json: number;
}

/** An engine holding one task ("1", project "1" bound to business "1") driven PROGRESS through its pass. */
export function drivenEngine(tree: Tree, fraction = PROGRESS): { engine: Engine; next: () => void } {
  const engine = createEngine({ rerunLimit: 1e9, limits: { maxNodes: 2_000_000 }, quotas: UNBOUNDED });
  engine.createProject({ id: '1', bk_biz_id: '1', name: 'bench' });
  engine.createTask({ id: '1', project_id: '1', name: 'bench', pipeline: tree.definition });
  const prefix = frontierPrefix(tree.flat, fraction);
  for (let k = 0; k < prefix.ids.length; k++) engine.apply('1', prefix.ids[k], NAMES[prefix.ops[k]]);
  // The same sequence from where the prefix stopped, one operation at a time.
  const rest = new FrontierSource(tree.flat);
  const batch = new Batch(1);
  for (let k = 0; k < prefix.ids.length; k++) rest.fill(batch);
  const next = () => {
    if (rest.fill(batch)) engine.apply('1', batch.ids[0], NAMES[batch.ops[0]]);
  };
  return { engine, next };
}

const countNodes = (answer: { children: Record<string, unknown> }): number => {
  let n = 1;
  for (const c of Object.values(answer.children)) n += countNodes(c as { children: Record<string, unknown> });
  return n;
};

async function measureTree(tree: Tree, config: BenchConfig): Promise<Row[]> {
  const { engine, next } = drivenEngine(tree);
  const rows: Row[] = [];
  const queries = [
    { query: 'whole tree' as const, request: { bk_biz_id: '1', task_id: '1' } },
    ...(tree.flat.deepSubprocess > 0
      ? [
          {
            query: 'deep subprocess' as const,
            request: { bk_biz_id: '1', task_id: '1', subprocess_id: tree.flat.ids[tree.flat.deepSubprocess] },
          },
        ]
      : []),
  ];
  for (const { query, request } of queries) {
    const first = engine.getTaskStatus(request);
    if (!first.result) throw new Error(`status of ${tree.label}: ${first.message}`);
    const answer = first.data!;
    const json = JSON.stringify(answer).length;
    const small = json < 1e5;
    // Answers of tens of MB take seconds: three samples each, no warmup (the first call above warmed them).
    const huge = json > 2e7;
    const [status, stringify] = await compareCalls(
      [
        { name: `status ${query} ${tree.label}`, fn: () => engine.getTaskStatus(request), prepare: next, repeat: small ? 16 : 1 },
        { name: `stringify ${query} ${tree.label}`, fn: () => JSON.stringify(answer), repeat: small ? 16 : 1 },
      ],
      config,
      huge ? { minSamples: 3, warmup: false } : {},
    );
    rows.push({ tree: tree.label, nodes: tree.flat.size, query, answered: countNodes(answer), status, stringify, json });
    progress(`${tree.label} ${query}: status ${ns(status.median)}, stringify ${ns(stringify.median)}`);
  }
  return rows;
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  const rows: Row[] = [];
  for (const size of config.sizes) rows.push(...(await measureTree(nestedPipeline(shapeOf(size)), config)));
  for (const branches of config.wide) rows.push(...(await measureTree(widePipeline(branches), config)));
  return {
    section: 'status',
    title: 'Status: get_task_status (per query, median)',
    tables: [table(rows)],
    checks: checks(rows),
    notes: [
      `Each task is driven ${PROGRESS * 100}% through its frontier pass; CREATED nodes are not in the answer (as in the seed). One more operation is applied between samples, untimed, so each query reads a new snapshot.`,
      'getTaskStatus includes validating the request, resolving project and task, and the envelope; JSON.stringify is of the `data` it returned. Answers over 20 MB (the 10^6 whole tree) take seconds per call: three samples each, after one untimed call.',
    ],
    raw: rows,
  };
}

function table(rows: readonly Row[]): Table {
  return {
    caption: 'get_task_status against JSON.stringify of the same answer',
    header: ['tree', 'query', 'nodes answered', 'JSON', 'getTaskStatus', 'JSON.stringify', 'status ÷ stringify'],
    rows: rows.map((r) => [
      r.tree,
      r.query,
      r.answered.toLocaleString('en-US'),
      `${(r.json / 1024).toFixed(0)} KiB`,
      ns(r.status.median),
      ns(r.stringify.median),
      ratio(r.status.median / r.stringify.median),
    ]),
  };
}

function checks(rows: readonly Row[]): Check[] {
  return rows
    .filter((r) => r.query === 'whole tree')
    .map((r) =>
      check(`whole-tree status, ${r.tree.replace(/ \(.*\)/, '')}: ÷ JSON.stringify`, r.status.median / r.stringify.median, 2, ratio),
    );
}
