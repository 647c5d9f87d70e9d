/**
 * The page's model of a task (web/src/model/task-model.ts) against the service: pages of
 * get_task_nodes read while operations go on, then every change of the watch stream applied in
 * order (the ones a page already holds are skipped by cursor), must give exactly the records a
 * fresh read gives, and the states get_task_status shows.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/api/engine.js';
import type { Operation, State } from '../../src/lifecycle/index.js';
import { PipestateError, type NodeDefinition } from '../../src/model/index.js';
import type { TaskNodesPage } from '../../src/query/overview-types.js';
import type { NodeStatus } from '../../src/query/types.js';
import { ALPHA, ESB, harness, qs, send, type Harness } from '../http/helpers.js';
import { watch } from '../http/sse-client.js';
import { TaskModel, ancestorsOf, visibleRows, type ChangeEvent } from '../../web/src/model/task-model.js';
import { barsOf } from '../../web/src/model/timeline.js';
import { runs } from '../fc-runs.js';

const PLAUSIBLE: Readonly<Record<State, readonly Operation[]>> = {
  CREATED: ['start', 'pause'],
  READY: ['start', 'pause'],
  RUNNING: ['finish', 'fail', 'pause', 'finish', 'callback'],
  SUSPENDED: ['resume'],
  FINISHED: ['reenter'],
  FAILED: ['retry', 'skip'],
  REVOKED: [],
};

function treeOf(shape: readonly { parent: number; container: boolean }[]): NodeDefinition {
  interface Building {
    id: string;
    name: string;
    kind: NodeDefinition['kind'];
    error_ignorable?: boolean;
    children?: Building[];
  }
  const root: Building = { id: 'root', name: 'root', kind: 'pipeline', children: [] };
  const containers: Building[] = [root];
  shape.forEach((s, k) => {
    const node: Building = s.container
      ? { id: `n${k}`, name: `sub ${k}`, kind: 'subprocess', children: [] }
      : { id: `n${k}`, name: `leaf ${k}`, kind: 'activity', error_ignorable: k % 5 === 0 };
    containers[s.parent % containers.length].children!.push(node);
    if (s.container) containers.push(node);
  });
  return root as NodeDefinition;
}

let h: Harness;
let engine: Engine;
let next = 1000;
// per test: engine work outside a test makes a mutation run re-run every test for each mutant
// it reached (docs/testing.md)
beforeEach(async () => {
  let now = Date.UTC(2024, 0, 1);
  engine = createEngine({ clock: () => (now += 250), rerunLimit: 3 });
  engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
  h = await harness({}, engine);
});
afterEach(() => h.close());

async function pageAt(taskId: string, offset: number, limit: number): Promise<TaskNodesPage> {
  const reply = await send(h.base, 'GET', ESB('get_task_nodes'), {
    query: `${qs(ALPHA)}&bk_biz_id=2&task_id=${taskId}&offset=${offset}&limit=${limit}`,
  });
  return (reply.json as { data: TaskNodesPage }).data;
}

/** shown state of every node get_task_status answers (CREATED nodes below an answered one are not). */
function shownStates(s: NodeStatus, out = new Map<string, string>()): Map<string, string> {
  out.set(s.id, s.state);
  for (const c of Object.values(s.children)) shownStates(c, out);
  return out;
}

describe("the page's task model", () => {
  it("pages read mid-run plus the stream's changes equal a fresh read, and the shown states equal get_task_status", async () => {
    const shapeArb = fc.array(fc.record({ parent: fc.nat(), container: fc.boolean() }), { minLength: 1, maxLength: 40 });
    const stepArb = fc.record({ node: fc.nat(), op: fc.nat(), read: fc.integer({ min: 0, max: 5 }) });
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.array(stepArb, { minLength: 1, maxLength: 80 }), async (shape, steps) => {
        const taskId = String(next++);
        engine.createTask({ id: taskId, project_id: '1', name: `task ${taskId}`, pipeline: treeOf(shape) });
        const def = engine.snapshot().getTask(taskId)!.definition;
        const stream = await watch(`${h.base}/watch_task_status/${taskId}/2/?${qs(ALPHA)}`);
        await stream.next(); // status
        const pages: TaskNodesPage[] = [];
        let offset: number | null = 0;
        let changes = 0;
        for (const step of steps) {
          if (step.read === 0 && offset !== null) {
            const page = await pageAt(taskId, offset, 3);
            pages.push(page);
            offset = page.next_offset;
          }
          const snap = engine.snapshot();
          const open = def.ids.flatMap((_, i) => (i === 0 || snap.getNode(taskId, def.ids[def.parent[i]])!.state === 'RUNNING' ? [i] : []));
          const id = def.ids[open[step.node % open.length]];
          const ops = PLAUSIBLE[snap.getNode(taskId, id)!.state];
          if (ops.length === 0) continue;
          try {
            changes += engine.apply(taskId, id, ops[step.op % ops.length]).length;
          } catch (e) {
            if (!(e instanceof PipestateError)) throw e;
          }
        }
        while (offset !== null) {
          const page = await pageAt(taskId, offset, 3);
          pages.push(page);
          offset = page.next_offset;
        }
        const events = (await stream.take(changes)).map((e) => JSON.parse(e.data) as ChangeEvent);
        stream.drop();

        const model = new TaskModel(taskId, pages[0].name, pages[0].total);
        for (const page of pages) model.addPage(page, 0);
        for (const c of events) model.apply(c);
        model.derive();

        const fresh = await pageAt(taskId, 0, 5000);
        const plain = fresh.nodes.map((n) => ({
          id: n.id,
          state: n.state,
          version: n.version,
          loop: n.loop,
          retry: n.retry,
          skip: n.skip,
          errorIgnored: n.error_ignored,
          startedAt: n.started_at === null ? null : Date.parse(n.started_at),
          finishedAt: n.finished_at === null ? null : Date.parse(n.finished_at),
          exData: n.ex_data,
          attempts: n.attempts.length,
        }));
        expect(
          model.nodes.map((n) => ({
            id: n.id,
            state: n.state,
            version: n.version,
            loop: n.loop,
            retry: n.retry,
            skip: n.skip,
            errorIgnored: n.errorIgnored,
            startedAt: n.startedAt,
            finishedAt: n.finishedAt,
            exData: n.exData,
            attempts: n.attempts.length,
          })),
        ).toEqual(plain);
        const shown = shownStates(engine.getTaskStatus({ bk_biz_id: '2', task_id: taskId }).data!);
        for (const [id, state] of shown) expect(model.nodes[model.indexOf(id)].shown, id).toBe(state);
      }),
      { numRuns: runs('webTaskModel') },
    );
  }, 120_000);

  it('lists rows in preorder with error rows, folds subtrees, and knows the ancestor condition', async () => {
    const taskId = String(next++);
    engine.createTask({
      id: taskId,
      project_id: '1',
      name: 'rows',
      pipeline: {
        id: 'r',
        kind: 'pipeline',
        children: [
          { id: 'a', kind: 'activity' },
          {
            id: 's',
            kind: 'subprocess',
            children: [
              { id: 'b', kind: 'activity' },
              { id: 'c', kind: 'activity' },
            ],
          },
          { id: 'd', kind: 'activity' },
        ],
      },
    });
    for (const [op, id] of [
      ['start', 'r'],
      ['start', 'a'],
      ['fail', 'a'],
      ['start', 's'],
      ['pause', 's'],
    ] as const) {
      engine.apply(taskId, id, op, op === 'fail' ? { ex_data: 'boom\nsecond line' } : undefined);
    }
    const model = new TaskModel(taskId, 'rows', 6);
    model.addPage(await pageAt(taskId, 0, 10), 0);
    model.derive();
    const rowText = (rows: Int32Array) => [...rows].map((r) => `${model.nodes[r >> 1].id}${r & 1 ? '!' : ''}`);
    expect(rowText(visibleRows(model, new Set()))).toEqual(['r', 'a', 'a!', 's', 'b', 'c', 'd']);
    expect(rowText(visibleRows(model, new Set([model.indexOf('s')])))).toEqual(['r', 'a', 'a!', 's', 'd']);
    expect(rowText(visibleRows(model, new Set([0])))).toEqual(['r']);
    expect(model.nodes.map((n) => n.end)).toEqual([6, 2, 5, 4, 5, 6]);
    expect(['a', 'b', 'd'].map((id) => ancestorsOf(model, model.indexOf(id)))).toEqual(['running', 'suspended', 'running']);
    expect(model.nodes[0].shown).toBe('FAILED');
    expect(barsOf(model.nodes[model.indexOf('a')], 0).map((b) => [b.state, b.open, b.attempt])).toEqual([['FAILED', false, 1]]);
  });
});
