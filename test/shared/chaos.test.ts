/**
 * Chaos (issue 11): three `pipestate serve --postgres` child processes on loopback, clients
 * sending random commands (legal and illegal) to random instances, a third of reads naming the
 * cursor of a write acknowledged by another instance, and instances killed with SIGKILL and
 * restarted (at least 10 kills). At the end:
 * - every instance answers every task identically;
 * - that answer equals one in-process engine fed the journal's changes in journal order (each
 *   journaled operation replayed through the public API, with the clock and version it recorded);
 * - every acknowledged change is in the journal at its cursor, as acknowledged;
 * - no read that named a cursor answered a node older than it was at that cursor.
 * Bounded: the load runs until the kills are done (and at most ~60 s).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type NodeRecord, type Operation } from '../../src/index.js';
import { openSharedEngine, type SharedEngine } from '../../src/api/shared-engine.js';
import { decodeEntries } from '../../src/store/journal/codec.js';
import { numbered } from '../../src/store/journal/shared/follower.js';
import type { JournalEntry } from '../../src/store/journal/entries.js';
import { DATABASE_URL, dropSchema, newSchemaName, requirePostgres, sql } from './pg.js';
import { PIPELINE, PROJECT } from './helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIPESTATE_')));
const schema = newSchemaName();
const dir = mkdtempSync(join(tmpdir(), 'pipestate-chaos-'));
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ projects: [PROJECT] }));

const KILLS = 10;
const TASKS = 8;
const CLIENTS = 6;
const LEAVES = ['a', 'b', 'c', 'd'];
const NODES = ['root', 'a', 'b', 'sub', 'c', 'd'];

// ---------------------------------------------------------------------------------------------
// Instances

class Instance {
  child: ChildProcessWithoutNullStreams | undefined;
  url: string | undefined;
  stderr = '';
  starts = 0;

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--postgres', DATABASE_URL, '--port', '0', '--no-auth', '--config', config],
      {
        cwd: ROOT,
        env: { ...ENV, PIPESTATE_DATABASE_SCHEMA: schema },
      },
    );
    this.child = child;
    this.starts++;
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4_000);
    });
    this.url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          child.stdout.off('data', onData);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.on('exit', (code) => reject(new Error(`instance exited (${code}) before listening: ${this.stderr}`)));
    });
  }

  kill(): void {
    this.url = undefined;
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.url = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

const instances = [new Instance(), new Instance(), new Instance()];
let setup: SharedEngine;

// ---------------------------------------------------------------------------------------------
// Client side records

interface Acked {
  readonly seq: number;
  readonly taskId: string;
  readonly nodeId: string;
  readonly state: string;
  readonly version: string;
  readonly by: number;
}
interface CursorRead {
  readonly minCursor: number;
  readonly taskId: string;
  readonly nodeId: string;
  readonly record: Record<string, unknown>;
  readonly by: number;
}

const acked: Acked[] = [];
const reads: CursorRead[] = [];
const counts = { commands: 0, accepted: 0, refused: 0, failed: 0, reads: 0, cursorReads: 0 };

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

async function call(
  url: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: a service answer read field by field, as the test checks it
): Promise<{ json: any; headers: Headers } | undefined> {
  try {
    const res = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { json: await res.json(), headers: res.headers };
  } catch {
    return undefined; // the instance died under it: the outcome is unknown
  }
}

const NODE_EVENTS = ['start', 'finish', 'fail', 'reenter'];
const NODE_ACTIONS = ['retry', 'skip', 'pause', 'resume', 'forced_fail', 'callback'];
const TASK_ACTIONS = ['pause', 'resume', 'revoke'];

/** What clients last heard of each node; it steers most commands to ones that may be legal. */
const known = new Map<string, string>();

/** Commands that may be legal for a node in a state (the lifecycle decides; clients only guess). */
const LIKELY: Readonly<Record<string, readonly string[]>> = {
  CREATED: ['start', 'start', 'pause'],
  READY: ['start', 'pause'],
  RUNNING: ['finish', 'fail', 'forced_fail', 'callback', 'finish'],
  FAILED: ['retry', 'skip'],
  FINISHED: ['reenter'],
  SUSPENDED: ['resume'],
  REVOKED: ['start'],
};

async function command(taskIds: readonly string[]): Promise<void> {
  const alive = instances.map((x, i) => [x, i] as const).filter(([x]) => x.url !== undefined);
  if (alive.length === 0) return;
  const [inst, by] = pick(alive);
  const taskId = pick(taskIds);
  const nodeId = pick(NODES);
  // four in five guessed from what clients heard, one in five anything at all
  const op = Math.random() < 0.8 ? pick(LIKELY[known.get(`${taskId}/${nodeId}`) ?? 'CREATED']) : pick([...NODE_EVENTS, ...NODE_ACTIONS]);
  // biome-ignore lint/suspicious/noExplicitAny: a service answer read field by field, as the test checks it
  let answer: { json: any } | undefined;
  if (nodeId === 'root' && Math.random() < 0.05) {
    answer = await call(inst.url!, `/operate_task/${taskId}/2/`, { action: pick(TASK_ACTIONS) });
  } else if (NODE_EVENTS.includes(op)) {
    answer = await call(inst.url!, `/node_event/${taskId}/2/`, { node_id: nodeId, event: op, ...(op === 'fail' ? { ex_data: 'x' } : {}) });
  } else {
    answer = await call(inst.url!, `/operate_node/2/${taskId}/`, {
      node_id: nodeId,
      action: op,
      ...(op === 'callback' ? { data: { k: 1 } } : {}),
    });
  }
  counts.commands++;
  if (answer === undefined) {
    counts.failed++;
    return;
  }
  const { json } = answer;
  if (!json.result) {
    if (json.code === 3599999) counts.failed++;
    else counts.refused++;
    return;
  }
  counts.accepted++;
  const data = json.data;
  if (Array.isArray(data.changes)) {
    const first = data.cursor - data.changes.length + 1;
    data.changes.forEach((c: { id: string; state: string; version: string }, k: number) => {
      acked.push({ seq: first + k, taskId, nodeId: c.id, state: c.state, version: c.version, by });
      known.set(`${taskId}/${c.id}`, c.state);
    });
  } else {
    acked.push({ seq: data.cursor, taskId, nodeId: data.node_id, state: data.state, version: data.version, by });
    known.set(`${taskId}/${data.node_id}`, data.state);
  }
}

async function read(taskIds: readonly string[]): Promise<void> {
  const alive = instances.map((x, i) => [x, i] as const).filter(([x]) => x.url !== undefined);
  if (alive.length === 0) return;
  const [inst, by] = pick(alive);
  counts.reads++;
  const others = acked.filter((a) => a.by !== by && LEAVES.includes(a.nodeId));
  if (Math.random() < 1 / 3 && others.length > 0) {
    const target = pick(others.slice(-20));
    const answer = await call(inst.url!, `/get_task_node_detail/${target.taskId}/2/?node_id=${target.nodeId}`, undefined, {
      'X-Pipestate-Min-Cursor': String(target.seq),
    });
    if (answer?.json.result) {
      counts.cursorReads++;
      reads.push({ minCursor: target.seq, taskId: target.taskId, nodeId: target.nodeId, record: answer.json.data, by });
    }
    return;
  }
  await call(inst.url!, `/get_task_status/${pick(taskIds)}/2/`);
}

// ---------------------------------------------------------------------------------------------
// The reference: one in-process engine fed the journal in journal order

async function journal(): Promise<JournalEntry[]> {
  const rows = await sql<{ body: Buffer }>(`SELECT body FROM "${schema}".journal ORDER BY xid, n`);
  const out: JournalEntry[] = [];
  let next = 1;
  for (const r of rows) {
    const [raw] = decodeEntries(r.body);
    const e = numbered(raw, next);
    out.push(e);
    next += e.kind === 'nodes' ? e.changes.length : e.kind === 'task' || e.kind === 'deleted' ? 1 : 0;
  }
  return out;
}

function reference(entries: readonly JournalEntry[]) {
  let now = 0;
  let version = '';
  const engine = createEngine({ clock: () => now, newVersion: () => version });
  const changes = new Map<number, { taskId: string; nodeId: string; to: string; record: NodeRecord }>();
  for (const e of entries) {
    switch (e.kind) {
      case 'project':
        engine.createProject({ ...e.project, bk_biz_id: e.project.bk_biz_id ?? undefined });
        break;
      case 'task':
        now = e.task.created_at;
        engine.createTask({ id: e.task.id, project_id: e.task.project_id, name: e.task.name, pipeline: PIPELINE });
        break;
      case 'nodes': {
        const first = e.changes[0];
        now = first.at;
        version = first.record.version;
        const args = {
          ...(first.operation === 'fail' || first.operation === 'forced_fail'
            ? first.record.ex_data !== undefined
              ? { ex_data: first.record.ex_data }
              : {}
            : {}),
          ...('data' in first ? { data: first.data } : {}),
        };
        const made = engine.apply(first.taskId, first.nodeId, first.operation as Operation, args);
        expect(made.map((c) => [c.seq, c.nodeId, c.from, c.to, c.record])).toEqual(
          e.changes.map((c) => [c.seq, c.nodeId, c.from, c.to, c.record]),
        );
        for (const c of made) changes.set(c.seq, { taskId: c.taskId, nodeId: c.nodeId, to: c.to, record: c.record });
        break;
      }
      case 'deleted':
        engine.deleteTask(e.deleted.taskId);
        break;
      default:
        throw new Error(`unexpected entry ${e.kind}`);
    }
  }
  return { engine, changes };
}

/** An answer without what depends on the moment it was asked (elapsed times). */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'elapsed_time')
      .map(([k, v]) => [k, timeless(v)]),
  );
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  await requirePostgres();
  setup = await openSharedEngine({ databaseUrl: DATABASE_URL, schema, poolSize: 2, log: () => undefined });
  await setup.ensureProject(PROJECT);
  await Promise.all(instances.map((x) => x.start()));
}, 120_000);

afterAll(async () => {
  await Promise.all(instances.map((x) => x.stop()));
  await setup?.close();
  await dropSchema(schema);
});

describe('three instances, random load, SIGKILL and restart', () => {
  it('ends with every instance answering alike, equal to one engine fed the journal, nothing acknowledged lost', async () => {
    const taskIds: string[] = [];
    for (let i = 0; i < TASKS; i++) taskIds.push((await setup.createTask({ project_id: '1', name: `chaos ${i}`, pipeline: PIPELINE })).id);

    let running = true;
    const deadline = performance.now() + 60_000;
    const clients = [...Array(CLIENTS)].map(async (_, k) => {
      while (running && performance.now() < deadline) {
        if (k % 2 === 0) await command(taskIds);
        else await read(taskIds);
        // a new task now and then, so that a task reaching its end does not end the load
        if (k === 0 && Math.random() < 0.05)
          taskIds.push((await setup.createTask({ project_id: '1', name: 'more', pipeline: PIPELINE })).id);
      }
    });
    let kills = 0;
    while (kills < KILLS && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
      const victim = pick(instances.filter((x) => x.url !== undefined));
      victim.kill();
      kills++;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
      await victim.start();
    }
    running = false;
    await Promise.all(clients);
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(counts.accepted).toBeGreaterThan(50);
    expect(counts.cursorReads).toBeGreaterThan(10);

    // Settle: every instance reflects the last change.
    const entries = await journal();
    const { engine: ref, changes } = reference(entries);
    const last = ref.cursor;
    const answers: unknown[][] = [];
    for (const inst of instances) {
      const mine: unknown[] = [];
      for (const taskId of taskIds) {
        const status = await call(inst.url!, `/get_task_status/${taskId}/2/?with_ex_data=true`, undefined, {
          'X-Pipestate-Min-Cursor': String(last),
        });
        expect(status?.json.result, `${inst.url}: ${JSON.stringify(status?.json)}`).toBe(true);
        mine.push(timeless(status!.json.data));
        for (const nodeId of NODES) {
          const detail = await call(inst.url!, `/get_task_node_detail/${taskId}/2/?node_id=${nodeId}&with_ex_data=true`);
          mine.push(timeless(detail!.json.data));
        }
      }
      answers.push(mine);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // equal to the reference engine (its clock: the last change's time; elapsed times are left out)
    const expected: unknown[] = [];
    for (const taskId of taskIds) {
      expected.push(timeless(ref.getTaskStatus({ bk_biz_id: '2', task_id: taskId, with_ex_data: true }).data));
      for (const nodeId of NODES)
        expected.push(timeless(ref.getTaskNodeDetail({ bk_biz_id: '2', task_id: taskId, node_id: nodeId, with_ex_data: true }).data));
    }
    expect(answers[0]).toEqual(expected);

    // Every acknowledged change is in the journal at its cursor, as acknowledged.
    for (const a of acked) {
      const c = changes.get(a.seq);
      expect(c, `acknowledged cursor ${a.seq}`).toBeDefined();
      expect({ taskId: c!.taskId, nodeId: c!.nodeId, state: c!.to, version: c!.record.version }).toEqual({
        taskId: a.taskId,
        nodeId: a.nodeId,
        state: a.state,
        version: a.version,
      });
    }
    // No read naming a cursor answered a node older than it was at that cursor.
    const history = new Map<string, { seq: number; record: NodeRecord }[]>();
    for (const [seq, c] of [...changes].sort((x, y) => x[0] - y[0])) {
      const key = `${c.taskId}/${c.nodeId}`;
      history.set(key, [...(history.get(key) ?? []), { seq, record: c.record }]);
    }
    for (const r of reads) {
      const list = history.get(`${r.taskId}/${r.nodeId}`)!;
      let from = 0;
      for (let k = 0; k < list.length; k++) if (list[k].seq <= r.minCursor) from = k;
      const allowed = list
        .slice(from)
        .map((h) => `${h.record.version}/${h.record.loop}/${h.record.retry}/${new Date(h.record.state_refresh_at).toISOString()}`);
      const got = `${r.record.version}/${r.record.loop}/${r.record.retry}/${r.record.state_refresh_at}`;
      expect(allowed, `read with min_cursor ${r.minCursor} of ${r.taskId}/${r.nodeId}`).toContain(got);
    }
    const restarts = instances.reduce((n, x) => n + x.starts - 1, 0);
    expect(restarts).toBe(kills);
    console.log(
      `chaos: ${kills} kills, ${counts.commands} commands (${counts.accepted} accepted, ${counts.refused} refused, ${counts.failed} unanswered or unavailable), ` +
        `${counts.reads} reads (${counts.cursorReads} naming another instance's cursor), ${entries.length} journal entries, cursor ${last}`,
    );
  }, 180_000);
});
