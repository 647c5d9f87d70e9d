/**
 * Deletion, quotas and capped histories at random (issue 8), against invariants:
 *
 * - a snapshot never changes, whatever is deleted, registered again under the same id, or
 *   operated after it was taken (and deleted tasks stay readable in it);
 * - a refused command (lifecycle, state of the root, quota) changes nothing: the store hands
 *   out the very same snapshot and the same usage;
 * - the usage the store counts as it goes equals a scan of the live tasks, and never exceeds
 *   the quota;
 * - an assigned id is one more than the highest id ever registered, never a deleted one's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipestateError, jsonTextBytes, type NodeDefinition } from '../../src/model/index.js';
import { Store, historyAt, recordAt, type Snapshot, type Usage } from '../../src/store/index.js';
import { dumpSnapshot, versionCounter } from './helpers.js';
import { runOnce, runs } from '../fc-runs.js';

const RUNS = runs('storeDelete');

const PIPELINE: NodeDefinition = {
  id: 'r',
  kind: 'pipeline',
  children: [
    { id: 'a', kind: 'activity' },
    { id: 's', kind: 'subprocess', children: [{ id: 'b', kind: 'activity' }] },
  ],
};
const PROJECTS = ['1', '3'];

type Step =
  | { kind: 'create'; project: number; id: number | undefined }
  | { kind: 'delete'; pick: number }
  /** revoke the root (started first if need be): the task can then be deleted */
  | { kind: 'revoke'; pick: number }
  | { kind: 'op'; pick: number; node: string; op: string; exData: number }
  /** start the root and a leaf if need be, fail the leaf, retry it: one more ended attempt */
  | { kind: 'cycle'; pick: number; node: string; exData: number }
  | { kind: 'snapshot' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      project: fc.nat(1),
      id: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), pick: fc.nat(20) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('op' as const),
      pick: fc.nat(20),
      node: fc.constantFrom('r', 'a', 's', 'b'),
      op: fc.constantFrom('start', 'finish', 'fail', 'retry', 'skip', 'reenter', 'revoke'),
      exData: fc.nat(3),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('cycle' as const), pick: fc.nat(20), node: fc.constantFrom('a', 'b'), exData: fc.nat(3) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('snapshot' as const) }) },
);

/** ex_data of a few sizes, one of them large enough to trip the small byte quota quickly. */
const EX_DATA = [undefined, 'short', { error: 'x'.repeat(60) }, 'y'.repeat(200)];

/**
 * What a snapshot answers by task id (the path that deletion and registration under a deleted
 * id could disturb), for every id up to `maxId`: each node's record and history, or nothing.
 */
function byId(snap: Snapshot, maxId: number): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (let k = 1; k <= maxId; k++) {
    const id = String(k);
    const task = snap.getTask(id);
    out.set(
      id,
      task === undefined
        ? undefined
        : {
            name: task.task.name,
            created_at: task.task.created_at,
            nodes: ['r', 'a', 's', 'b'].map((n) =>
              structuredClone({ record: { ...snap.getNode(id, n) }, history: snap.getHistory(id, n)!.map((r) => ({ ...r })) }),
            ),
          },
    );
  }
  return out;
}

/** Usage as a scan of the live tasks of the current snapshot. */
function scan(snap: Snapshot, projectId: string): Usage {
  let tasks = 0;
  let nodes = 0;
  let exDataBytes = 0;
  let histories = 0;
  for (const t of snap.tasksInOrder()) {
    if (t.task.project_id !== projectId) continue;
    tasks++;
    nodes += t.definition.size;
    for (let i = 0; i < t.definition.size; i++) {
      const attempts = [recordAt(t, i), ...historyAt(t, i)];
      histories += attempts.length - 1;
      for (const r of attempts) if (r.ex_data !== undefined) exDataBytes += jsonTextBytes(r.ex_data);
    }
  }
  return { tasks, nodes, exDataBytes, histories };
}

/** How often the paths that matter were taken, across all runs. */
const coverage = { deleted: 0, reRegistered: 0, deleteRefused: 0, quotaRefused: 0, dropped: 0, deletedSeenByOldSnapshot: 0 };

/** The property and what its runs reached (test/fc-runs.ts runOnce: either test below may run it). */
const deletionRuns = runOnce(() => {
  for (const key of Object.keys(coverage) as (keyof typeof coverage)[]) coverage[key] = 0;
  runProperty();
  return coverage;
});

function runProperty(): void {
  // Only steps marked `check` take snapshots around them: a snapshot after every step would
  // hide the in-place writes of a run without one, and the removals recorded while none is held.
  fc.assert(
    fc.property(fc.array(fc.tuple(step, fc.boolean()), { minLength: 30, maxLength: 80, size: 'max' }), (steps) => {
      let now = 0;
      const store = new Store({
        clock: () => ++now,
        newVersion: versionCounter().next,
        limits: { maxNodeHistories: 2, historiesDefaultLimit: 2, historiesMaxLimit: 2 },
        quotas: {
          default: { maxTasks: 3, maxNodes: 10, maxExDataBytes: 400, maxHistories: 5 },
          projects: { 3: { maxTasks: 4, maxNodes: 16 } },
        },
      });
      for (const p of PROJECTS) store.createProject({ id: p, name: `p${p}` });
      let events = 0;
      store.on('node', () => {
        events++;
      });
      store.on('task', () => {
        events++;
      });
      store.on('task_deleted', () => {
        events++;
      });
      const live: string[] = [];
      const projectOf = new Map<string, string>();
      let highest = 0;
      const taken: { snap: Snapshot; dump: ReturnType<typeof dumpSnapshot>; ids: Map<string, unknown> }[] = [];
      const MAX_ID = 200;
      const usageNow = () => PROJECTS.map((p) => store.quota(p)!.usage);

      for (const [s, check] of steps) {
        /** Runs a command; a refusal must change nothing: no event, the same usage, and (checked) the same snapshot. */
        const attempt = (run: () => void): boolean => {
          const before = check ? store.snapshot() : undefined;
          const usage = usageNow();
          const eventsBefore = events;
          try {
            run();
            return true;
          } catch (e) {
            if (!(e instanceof PipestateError)) throw e;
            if (e.code === 3542900) coverage.quotaRefused++;
            if (e.message.startsWith('cannot delete')) coverage.deleteRefused++;
            if (before !== undefined) expect(store.snapshot()).toBe(before);
            expect(usageNow()).toEqual(usage);
            expect(events).toBe(eventsBefore);
            return false;
          }
        };

        if (s.kind === 'snapshot') {
          const snap = store.snapshot();
          taken.push({ snap, dump: dumpSnapshot(snap), ids: byId(snap, MAX_ID) });
        } else if (s.kind === 'create') {
          const project = PROJECTS[s.project];
          const id = s.id === undefined ? undefined : String(s.id);
          // names tell registrations of one id apart in byId
          const name = `t${now}`;
          const seenBefore = id !== undefined && taken.some(({ snap }) => snap.getTask(id) !== undefined);
          let created = '';
          if (
            attempt(() => {
              created = store.createTask({ id, project_id: project, name, pipeline: PIPELINE }).id;
            })
          ) {
            if (seenBefore) coverage.reRegistered++;
            if (id === undefined) expect(created).toBe(String(highest + 1));
            highest = Math.max(highest, Number(created));
            live.push(created);
            projectOf.set(created, project);
          }
        } else if (s.kind === 'delete' && live.length > 0) {
          const id = live[s.pick % live.length];
          if (attempt(() => store.deleteTask(id))) {
            live.splice(live.indexOf(id), 1);
            coverage.deleted++;
            if (taken.some(({ snap }) => snap.getTask(id) !== undefined)) coverage.deletedSeenByOldSnapshot++;
          }
        } else if (s.kind === 'op' && live.length > 0) {
          const id = live[s.pick % live.length];
          const exData = EX_DATA[s.exData];
          attempt(() =>
            store.apply(id, s.node, s.op as 'start', s.op === 'fail' && exData !== undefined ? { ex_data: exData } : undefined),
          );
        } else if (s.kind === 'revoke' && live.length > 0) {
          const id = live[s.pick % live.length];
          attempt(() => store.start(id, 'r'));
          attempt(() => store.revoke(id, 'r'));
        } else if (s.kind === 'cycle' && live.length > 0) {
          const id = live[s.pick % live.length];
          for (const node of ['r', s.node === 'b' ? 's' : 'r', s.node]) attempt(() => store.start(id, node));
          const exData = EX_DATA[s.exData];
          attempt(() => store.fail(id, s.node, exData === undefined ? undefined : { ex_data: exData }));
          const histories = () => store.quota(projectOf.get(id)!)!.usage.histories;
          const before = histories();
          // a retry at the cap ends one attempt and drops one: the count stays
          if (attempt(() => store.retry(id, s.node)) && histories() === before) coverage.dropped++;
        }
        if (!check) continue;
        const snap = store.snapshot();
        expect(snap.size).toBe(live.length);
        for (const p of PROJECTS) {
          const { usage, quota } = store.quota(p)!;
          expect(usage).toEqual(scan(snap, p));
          expect(usage.tasks).toBeLessThanOrEqual(quota.maxTasks);
          expect(usage.nodes).toBeLessThanOrEqual(quota.maxNodes);
          expect(usage.exDataBytes).toBeLessThanOrEqual(quota.maxExDataBytes);
          expect(usage.histories).toBeLessThanOrEqual(quota.maxHistories);
        }
      }
      for (const { snap, dump, ids } of taken) {
        expect(dumpSnapshot(snap)).toEqual(dump);
        expect(byId(snap, MAX_ID)).toEqual(ids);
      }
    }),
    { numRuns: RUNS },
  );
}

describe('deletion, quotas and capped histories, at random', () => {
  it('snapshots never change; refusals change nothing; counted usage equals a scan and stays within quota', () => {
    deletionRuns();
  });

  it('took the paths that matter: deletions seen by older snapshots, ids registered again, refusals, drops', () => {
    const counted = deletionRuns();
    console.log(`deletion coverage: ${JSON.stringify(counted)}`);
    for (const [path, count] of Object.entries(counted)) expect(count, `${path}: ${JSON.stringify(counted)}`).toBeGreaterThan(RUNS / 20);
  });
});
