/**
 * Section 3: get_tasks_status of 1,000 tasks of 100 nodes, with and without children, against
 * JSON.stringify of the same answer. The tasks are spread over every stage of progress (task k is
 * driven (k mod 11) tenths through its frontier pass), as a list page over a project would be.
 */
import { createEngine } from '../src/api/engine.js';
import { MACHINE_OPERATIONS, type Operation } from '../src/lifecycle/index.js';
import type { BenchConfig } from './config.js';
import { compareCalls, type Timing } from './measure.js';
import { ns, progress, ratio, type SectionResult } from './report.js';
import { nestedPipeline } from './trees.js';
import { frontierPrefix } from './workloads.js';

const NAMES = MACHINE_OPERATIONS as readonly Operation[];
const TASKS = 1000;
/** 100 nodes, subprocesses 3 levels deep */
const SHAPE = { nodes: 100, fanOut: 2, depth: 4 };

interface Row {
  readonly children: boolean;
  readonly status: Timing;
  readonly stringify: Timing;
  readonly json: number;
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  const tree = nestedPipeline(SHAPE);
  const engine = createEngine({ rerunLimit: 1e9 });
  engine.createProject({ id: '1', bk_biz_id: '1', name: 'bench' });
  const prefixes = Array.from({ length: 11 }, (_, tenth) => frontierPrefix(tree.flat, tenth / 10));
  const ids: string[] = [];
  for (let k = 0; k < TASKS; k++) {
    const id = String(1000 + k);
    ids.push(id);
    engine.createTask({ id, project_id: '1', name: `task ${k}`, pipeline: tree.definition });
    const p = prefixes[k % 11];
    for (let j = 0; j < p.ids.length; j++) engine.apply(id, p.ids[j], NAMES[p.ops[j]]);
  }
  const rows: Row[] = [];
  for (const children of [false, true]) {
    const request = { bk_biz_id: '1', task_id_list: ids, include_children_status: children };
    const first = engine.getTasksStatus(request);
    if (!first.result || first.data!.length !== TASKS) throw new Error(`get_tasks_status: ${first.message}`);
    const answer = first.data!;
    const [status, stringify] = await compareCalls(
      [
        { name: `tasks status children=${children}`, fn: () => engine.getTasksStatus(request) },
        { name: `stringify children=${children}`, fn: () => JSON.stringify(answer) },
      ],
      config,
    );
    rows.push({ children, status, stringify, json: JSON.stringify(answer).length });
    progress(`get_tasks_status ${TASKS} tasks, children ${children}: ${ns(status.median)}, stringify ${ns(stringify.median)}`);
  }
  return {
    section: 'batch',
    title: `Batch: get_tasks_status of ${TASKS.toLocaleString('en-US')} tasks of ${SHAPE.nodes} nodes (per query, median)`,
    tables: [
      {
        caption: 'get_tasks_status against JSON.stringify of the same answer',
        header: ['include_children_status', 'JSON', 'getTasksStatus', 'per task', 'JSON.stringify', 'status ÷ stringify'],
        rows: rows.map((r) => [
          String(r.children),
          `${(r.json / 1024).toFixed(0)} KiB`,
          ns(r.status.median),
          ns(r.status.median / TASKS),
          ns(r.stringify.median),
          ratio(r.status.median / r.stringify.median),
        ]),
      },
    ],
    checks: [],
    notes: [
      `Tasks of ${SHAPE.nodes} nodes (fan-out ${SHAPE.fanOut}, depth ${SHAPE.depth}), task k driven (k mod 11)/10 through its frontier pass. No target is set for batches; the ratio is reported.`,
    ],
    raw: rows,
  };
}
