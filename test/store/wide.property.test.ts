/**
 * The model-based suite uses small trees: its tries never grow past two levels. These runs use
 * what the trie has to get right at scale: a task of a few thousand nodes (records three trie
 * levels deep, and the per-node count of active records that a container's finish and a revoke
 * rely on), and over a thousand tasks (the task vector grows while snapshots hold its old roots).
 * The reference model is the same independent reading of SPEC §2.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipestateError, type NodeDefinition } from '../../src/model/index.js';
import { Store, type Snapshot } from '../../src/store/index.js';
import type { NodeRecord } from '../../src/lifecycle/index.js';
import { runOnce, runs } from '../fc-runs.js';
import { hexVersion } from './helpers.js';
import {
  ACTIVE_STATES,
  SPEC_OPERATIONS,
  legalOperations,
  modelApply,
  modelNext,
  modelTask,
  type ModelRecord,
  type NestedNode,
  type SpecOperation,
} from './reference-model.js';

/** These runs are long: a twentieth of the model suite's count, at least 10 (test/fc-runs.ts). */
const WIDE_RUNS = runs('storeWide');

function same(actual: unknown, expected: unknown, message: string): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual, message).toEqual(expected);
}

/** root → `groups` subprocesses of `width` activities each (some error_ignorable), plus a few leaves */
function widePipeline(groups: number, width: number): NestedNode {
  return {
    id: 'root',
    kind: 'pipeline',
    children: [
      { id: 'first', kind: 'activity' },
      ...Array.from(
        { length: groups },
        (_, g): NestedNode => ({
          id: `g${g}`,
          kind: 'subprocess',
          children: Array.from(
            { length: width },
            (_, k): NestedNode => ({
              id: `g${g}-${k}`,
              kind: k % 3 === 0 ? 'gateway' : 'activity',
              error_ignorable: k % 7 === 0,
            }),
          ),
        }),
      ),
      { id: 'last', kind: 'event' },
    ],
  };
}

const plain = (r: object): ModelRecord => ({ ...r }) as ModelRecord;

/**
 * What a snapshot shows of task 10. Records are frozen, so holding them is holding their content:
 * a later read must give the same objects (or, failing that, equal ones).
 */
interface Seen {
  readonly ids: readonly string[];
  readonly records: readonly (NodeRecord | undefined)[];
  readonly copies: readonly ModelRecord[];
  readonly histories: readonly (readonly NodeRecord[])[];
}

function see(snap: Snapshot): Seen {
  const ids = snap.getTask('10')!.definition.ids;
  const records = ids.map((id) => snap.getNode('10', id));
  return {
    ids,
    records,
    copies: records.map((r) => plain(r!)),
    histories: ids.map((id) => [...snap.getHistory('10', id)!]),
  };
}

function expectUnchanged(snap: Snapshot, seen: Seen): void {
  seen.ids.forEach((id, i) => {
    const now = snap.getNode('10', id);
    if (now !== seen.records[i]) same(plain(now!), seen.copies[i], `a kept snapshot changed node ${id}`);
    const history = snap.getHistory('10', id)!;
    if (history.length !== seen.histories[i].length || history.some((h, k) => h !== seen.histories[i][k])) {
      same(history.map(plain), seen.histories[i].map(plain), `a kept snapshot changed the history of ${id}`);
    }
    if (!Object.isFrozen(now)) throw new Error(`record of ${id} is not frozen`);
  });
}

/** summed over runs, so that a run that stays shallow cannot pass unnoticed */
const emptyCoverage = () => ({ runs: 0, containerFinished: 0, containerFinishRefused: 0, revokedActive: 0 });
let coverage = emptyCoverage();

/** The property and what its runs reached (test/fc-runs.ts runOnce: either test below may run it). */
const wideRuns = runOnce(() => {
  coverage = emptyCoverage();
  wideProperty();
  return coverage;
});
const WIDE_TIMEOUT = 120_000 + WIDE_RUNS * 2_000;

function wideProperty(): void {
  const stepArb = fc.record({
    node: fc.nat(),
    op: fc.nat(),
    legal: fc.integer({ min: 0, max: 9 }),
    snapshot: fc.integer({ min: 0, max: 19 }),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 4 }),
      fc.integer({ min: 300, max: 700 }),
      fc.array(stepArb, { minLength: 100, maxLength: 400, size: 'max' }),
      (groups, width, steps) => {
        coverage.runs++;
        let now = 1_000;
        let drawn = 0;
        const store = new Store({ clock: () => now, newVersion: () => hexVersion(++drawn), rerunLimit: 2 });
        store.createProject({ id: '1', name: 'p' });
        const pipeline = widePipeline(groups, width);
        store.createTask({ id: '10', project_id: '1', name: 't', pipeline: pipeline as NodeDefinition });
        const task = modelTask('10', pipeline, now);
        const kept: { snap: Snapshot; seen: Seen }[] = [];

        /** One operation on engine and model; they must agree on it. */
        const attempt = (index: number, op: SpecOperation, exData: string | undefined): void => {
          const id = task.nodes[index].id;
          const to = modelNext(task, index, op, 2);
          let changes: ReturnType<typeof store.apply>;
          try {
            changes = store.apply('10', id, op, exData === undefined ? undefined : { ex_data: exData });
          } catch (e) {
            if (!(e instanceof PipestateError)) throw e;
            if (to !== null) throw new Error(`${op} ${id}: the engine refused what the model accepts: ${e.message}`);
            expect(e.code).toBe(3545000);
            if (op === 'finish' && task.nodes[index].children.length > 0 && task.nodes[index].record.state === 'RUNNING') {
              coverage.containerFinishRefused++;
            }
            return;
          }
          if (to === null) throw new Error(`${op} ${id} (${task.nodes[index].record.state}): accepted, the model refuses`);
          if (op === 'finish' && task.nodes[index].children.length > 0) coverage.containerFinished++;
          const expected = modelApply(task, index, op, now, 2, exData, () => '');
          same(
            changes.map((c) => [c.nodeId, c.from, c.to]),
            expected.map((c) => [task.nodes[c.index].id, c.from, c.to]),
            `${op} ${id}`,
          );
          changes.forEach((c, k) => {
            const m = task.nodes[expected[k].index];
            if (expected[k].newVersion) m.record.version = c.record.version;
            same(plain(c.record), m.record, `${op} ${id}: record of ${m.id}`);
          });
        };

        /** What it takes to bring a container's active leaves to FINISHED, then the container. */
        const drainPlan = (container: number): [number, SpecOperation][] => {
          const plan: [number, SpecOperation][] = [];
          for (const j of task.nodes[container].children) {
            const state = task.nodes[j].record.state;
            if (state === 'SUSPENDED') plan.push([j, 'resume'], [j, 'start'], [j, 'finish']);
            if (state === 'READY') plan.push([j, 'start'], [j, 'finish']);
            if (state === 'RUNNING') plan.push([j, 'finish']);
          }
          plan.push([container, 'finish']);
          return plan;
        };

        // Get the containers running first, so that the leaves have something to do.
        const containers = task.nodes.flatMap((n, i) => (n.children.length > 0 ? [i] : []));
        for (const i of containers) attempt(i, 'start', undefined);

        for (const step of steps) {
          now += 1 + (step.node % 3);
          if (step.legal === 9 && step.op % 2 === 0) {
            // Now and then drive a group to its end, so containers finish over wide subtrees.
            for (const [j, op] of drainPlan(containers[step.node % containers.length])) attempt(j, op, undefined);
          } else {
            // Containers are few and leaves many: ask containers often, or they would never move.
            const index = step.op % 4 === 0 ? containers[step.node % containers.length] : step.node % task.nodes.length;
            const legal = legalOperations(task, index, 2).filter(([o]) => o !== 'revoke');
            const op =
              step.legal < 8 && legal.length > 0 ? legal[step.op % legal.length][0] : SPEC_OPERATIONS[step.op % SPEC_OPERATIONS.length];
            attempt(index, op, op === 'fail' || op === 'forced_fail' ? `e${step.op}` : undefined);
          }
          if (step.snapshot === 0) {
            const snap = store.snapshot();
            for (const k of kept) expectUnchanged(k.snap, k.seen);
            kept.push({ snap, seen: see(snap) });
            if (kept.length > 3) kept.shift();
          }
        }

        // The end: every record, then a revoke, whose cascade must be exactly the active nodes.
        const snap = store.snapshot();
        for (const n of task.nodes) same(plain(snap.getNode('10', n.id)!), n.record, `node ${n.id}`);
        for (const k of kept) expectUnchanged(k.snap, k.seen);
        const active = task.nodes.flatMap((n, i) => (i > 0 && ACTIVE_STATES.includes(n.record.state) ? [n.id] : []));
        if (modelNext(task, 0, 'revoke', 2) !== null) {
          now += 1;
          const revoked = store.revoke('10', 'root').map((c) => c.nodeId);
          expect(revoked).toEqual(['root', ...active]);
          coverage.revokedActive += active.length;
        }
      },
    ),
    { numRuns: WIDE_RUNS },
  );
}

describe('a wide task (records three trie levels deep)', () => {
  it(
    `agrees with the reference model on long random runs (${WIDE_RUNS} runs)`,
    () => {
      expect(wideRuns().runs).toBe(WIDE_RUNS);
    },
    WIDE_TIMEOUT,
  );

  it(
    'took the paths that matter: containers finished and refused to finish, cascades revoked',
    () => {
      const coverage = wideRuns();
      // Bars well under what runs reach, so that only a suite gone shallow fails: over 13 runs of
      // 10 properties each (FC_RUNS=200, 2026-12-08) the lowest totals were 6 containers
      // finished, 37 refused, 9 active nodes revoked. The revoked count is lumpy (one revoke of a
      // wide task revokes dozens) and once fell to 9, failing the earlier bar of one per run.
      expect(coverage.containerFinished, JSON.stringify(coverage)).toBeGreaterThan(WIDE_RUNS / 4);
      expect(coverage.containerFinishRefused, JSON.stringify(coverage)).toBeGreaterThan(WIDE_RUNS);
      expect(coverage.revokedActive, JSON.stringify(coverage)).toBeGreaterThan(WIDE_RUNS / 4);
      console.log(`wide coverage: ${JSON.stringify(coverage)}`);
    },
    WIDE_TIMEOUT,
  );
});

describe('many tasks (the task vector grows past two trie levels)', () => {
  it('every snapshot sees exactly the tasks, projects and records of its moment', () => {
    let now = 0;
    const store = new Store({ clock: () => ++now, newVersion: () => hexVersion(now) });
    const pipeline: NodeDefinition = { id: 'r', kind: 'pipeline', children: [{ id: 'a', kind: 'activity' }] };
    const taken: { snap: Snapshot; tasks: number; projects: number; started: Set<string> }[] = [];
    const started = new Set<string>();
    let projects = 0;
    for (let t = 0; t < 1_100; t++) {
      if (t % 100 === 0) store.createProject({ id: String(++projects), bk_biz_id: String(500 + projects), name: 'p' });
      // task ids are positive: task t + 1 is the t-th registered
      store.createTask({ id: String(t + 1), project_id: String(projects), name: `t${t}`, pipeline });
      // operate on an older task too, so writes land all over the vector
      const older = String(((t * 7) % (t + 1)) + 1);
      if (!started.has(older)) {
        store.start(older, 'r');
        started.add(older);
      }
      if (t % 37 === 0 || t === 31 || t === 32 || t === 1_023 || t === 1_024) {
        taken.push({ snap: store.snapshot(), tasks: t + 1, projects, started: new Set(started) });
      }
    }
    taken.push({ snap: store.snapshot(), tasks: 1_100, projects, started: new Set(started) });
    for (const { snap, tasks, projects: p, started: s } of taken) {
      expect(snap.size).toBe(tasks);
      expect(snap.getTask(String(tasks + 1))).toBeUndefined();
      expect(snap.getProject(String(p))?.id).toBe(String(p));
      expect(snap.getProject(String(p + 1))).toBeUndefined();
      expect(snap.getProjectByBizId(String(500 + p))?.id).toBe(String(p));
      expect(snap.getProjectByBizId(String(501 + p))).toBeUndefined();
      const ids = [...snap.tasksInOrder()].map((v) => v.task.id);
      expect(ids).toEqual(Array.from({ length: tasks }, (_, k) => String(k + 1)));
      for (let k = 1; k <= tasks; k++) {
        expect(snap.getNode(String(k), 'r')!.state).toBe(s.has(String(k)) ? 'RUNNING' : 'CREATED');
      }
    }
  });
});
