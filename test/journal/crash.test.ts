/**
 * Crashes: a child `pipestate serve --data` under a bounded write load over loopback (several
 * clients, each driving its own tasks through a fixed script of create_task, node_event and
 * operate_* commands, a revoke with its cascade among them), killed with SIGKILL at random
 * moments, at least 20 times, and restarted each time under a durability mode taken in turn.
 *
 * After each restart, for every task: the server's state equals a single in-process engine fed
 * the acknowledged commands in order, or that plus the one command that was in flight when the
 * process died (it may have become durable before its answer left). Anything else (an
 * acknowledged change missing, half a revoke) fails. Cursors a client was answered only grow.
 * At the end the directory verifies clean.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/api/engine.js';
import { verifyJournal } from '../../src/store/journal/index.js';
import type { NodeDefinition } from '../../src/model/index.js';
import { Client, serve, type Served } from './service.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const CLIENTS = 4;
const root = mkdtempSync(join(tmpdir(), 'pipestate-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PIPELINE: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  name: 'release',
  children: [
    { id: 'a', kind: 'activity', name: 'build' },
    {
      id: 'sub',
      kind: 'subprocess',
      name: 'rollout',
      children: [
        { id: 'b', kind: 'activity', name: 'canary' },
        { id: 'c', kind: 'event', name: 'signal', error_ignorable: true },
      ],
    },
    { id: 'd', kind: 'activity', name: 'notify' },
  ],
};

type Command =
  | { readonly api: 'create_task' }
  | {
      readonly api: 'node_event';
      readonly node: string;
      readonly event: 'start' | 'finish' | 'fail' | 'reenter';
      readonly ex_data?: string;
    }
  | { readonly api: 'operate_node'; readonly node: string; readonly action: 'retry' | 'skip' }
  | { readonly api: 'operate_task'; readonly action: 'revoke' };

const ev = (node: string, event: 'start' | 'finish' | 'fail', ex_data?: string): Command => ({
  api: 'node_event',
  node,
  event,
  ...(ex_data ? { ex_data } : {}),
});

/** One task's life; the odd ones are revoked while two nodes run (the revoke cascades). */
function script(n: number): Command[] {
  const common: Command[] = [
    { api: 'create_task' },
    ev('root', 'start'),
    ev('a', 'start'),
    ev('a', 'fail', `exit ${n}`),
    { api: 'operate_node', node: 'a', action: 'retry' },
    ev('a', 'start'),
    ev('a', 'finish'),
    ev('sub', 'start'),
    ev('b', 'start'),
    ev('b', 'finish'),
    ev('c', 'start'),
    ev('c', 'fail', 'ignored'),
    ev('d', 'start'),
  ];
  return n % 2 === 0
    ? [
        ...common,
        ev('sub', 'finish'),
        ev('d', 'fail', 'mail down'),
        { api: 'operate_node', node: 'd', action: 'skip' },
        ev('root', 'finish'),
      ]
    : [...common, { api: 'operate_task', action: 'revoke' }];
}

/** The command applied to an in-process engine, as the server applies it. */
function applyTo(engine: Engine, taskId: string, name: string, c: Command): void {
  switch (c.api) {
    case 'create_task':
      engine.createTask({ id: taskId, project_id: '1', name, pipeline: PIPELINE });
      return;
    case 'node_event':
      engine.apply(taskId, c.node, c.event, c.ex_data !== undefined ? { ex_data: c.ex_data } : {});
      return;
    case 'operate_node':
      engine.apply(taskId, c.node, c.action);
      return;
    case 'operate_task':
      engine.apply(taskId, 'root', c.action);
      return;
  }
}

/** Sends a command of `task`; create_task learns the id the service assigned. */
async function send(client: Client, task: WorkerTask, c: Command) {
  if (c.api === 'create_task') {
    const answer = await client.post('create_task', { bk_biz_id: '2', name: `task ${task.label}`, pipeline: PIPELINE });
    if (answer.json.result) task.taskId = String((answer.json.data as { task_id: number }).task_id);
    return answer;
  }
  const base = { bk_biz_id: '2', task_id: task.taskId! };
  switch (c.api) {
    case 'node_event':
      return client.post('node_event', {
        ...base,
        node_id: c.node,
        event: c.event,
        ...(c.ex_data !== undefined ? { ex_data: c.ex_data } : {}),
      });
    case 'operate_node':
      return client.post('operate_node', { ...base, node_id: c.node, action: c.action });
    case 'operate_task':
      return client.post('operate_task', { ...base, action: c.action });
  }
}

/** What must survive, per node: everything but times and versions (the reference draws its own). */
function shape(entry: unknown): unknown {
  if (entry === undefined) return undefined;
  const strip = (s: Record<string, unknown>): unknown => ({
    id: s.id,
    state: s.state,
    name: s.name,
    retry: s.retry,
    loop: s.loop,
    skip: s.skip,
    error_ignorable: s.error_ignorable,
    children: Object.fromEntries(
      Object.entries((s.children ?? {}) as Record<string, Record<string, unknown>>).map(([k, v]) => [k, strip(v)]),
    ),
  });
  return strip((entry as { status: Record<string, unknown> }).status);
}

/** A task's expected answer after `commands`, from a fresh in-process engine. */
function expected(taskId: string, name: string, commands: readonly Command[]): unknown {
  const engine = createEngine();
  engine.createProject({ id: '1', bk_biz_id: '2', name: 'one' });
  for (const c of commands) applyTo(engine, taskId, name, c);
  const answer = engine.getTasksStatus({ bk_biz_id: '2', task_id_list: [taskId], include_children_status: true });
  return shape(answer.data![0]);
}

/**
 * A task a worker drives. The service assigns task ids (create_task takes none), so the id is
 * known once create_task is answered; a task is named `task <label>`, so one whose create_task
 * was in flight at a kill is found again by its name.
 */
interface WorkerTask {
  readonly label: number;
  taskId: string | undefined;
  readonly script: Command[];
  done: Command[];
}

interface Worker {
  readonly id: number;
  /** tasks this worker drives, in order: acknowledged commands of each */
  readonly tasks: WorkerTask[];
  /** the command sent whose answer never came */
  inFlight: { readonly task: WorkerTask; readonly command: Command } | undefined;
  cursors: number[];
  acks: number;
}

const CONFIG = {
  projects: [{ id: '1', bk_biz_id: '2', name: 'one' }],
  apps: [{ bk_app_code: 'ops', bk_app_secret: 'ops-secret', projects: '*' }],
};
const AUTH = { bk_app_code: 'ops', bk_app_secret: 'ops-secret', bk_username: 'olga' };
const MODES = ['batch', 'always', 'off'] as const;

/** Drives the worker's script until the server goes away (or the script ends). */
async function drive(w: Worker, client: Client, stop: { stopped: boolean }): Promise<void> {
  for (let t = 0; !stop.stopped; t++) {
    if (t >= w.tasks.length) {
      const n = w.id * 100_000 + t + 1;
      w.tasks.push({ label: n, taskId: undefined, script: script(n), done: [] });
    }
    const task = w.tasks[t];
    while (task.done.length < task.script.length && !stop.stopped) {
      const command = task.script[task.done.length];
      w.inFlight = { task, command };
      let answer: Awaited<ReturnType<typeof send>>;
      try {
        answer = await send(client, task, command);
      } catch {
        return; // the server died: the outcome of this command is unknown
      }
      w.inFlight = undefined;
      if (!answer.json.result)
        throw new Error(`task ${task.taskId ?? task.label}: ${command.api} refused: ${answer.json.code} ${answer.json.message}`);
      task.done.push(command);
      w.acks++;
      const cursor = (answer.json.data as { cursor?: number }).cursor;
      if (typeof cursor === 'number') w.cursors.push(cursor);
    }
  }
}

/** After a restart: each task is exactly its acknowledged commands, or those plus the one in flight. */
async function reconcile(w: Worker, client: Client): Promise<void> {
  for (const task of w.tasks) {
    if (task.taskId !== undefined) continue;
    // Its create_task was in flight (or never sent): the task exists, under its name, or not at all.
    const name = `task ${task.label}`;
    const list = await client.post('get_task_list', { bk_biz_id: '2', keyword: name, limit: 200 });
    const found = (list.json.data as { id: number; name: string }[]).filter((e) => e.name === name);
    expect(found.length).toBeLessThanOrEqual(1);
    if (found.length === 1) {
      expect(w.inFlight).toMatchObject({ task, command: { api: 'create_task' } });
      task.taskId = String(found[0].id);
      task.done = [task.script[0]]; // it became durable before its answer could leave
    }
    if (w.inFlight?.task === task) w.inFlight = undefined;
  }
  const known = w.tasks.filter((t) => t.taskId !== undefined);
  const ids = known.map((t) => t.taskId!);
  const answer = await client.post('get_tasks_status', { bk_biz_id: '2', task_id_list: ids, include_children_status: true });
  const byId = new Map((answer.json.data as { id: number | string }[]).map((e) => [String(e.id), e]));
  for (const task of known) {
    const taskId = task.taskId!;
    const actual = shape(byId.get(taskId));
    const acked = expected(taskId, `task ${task.label}`, task.done);
    if (w.inFlight?.task === task) {
      const withIt = expected(taskId, `task ${task.label}`, [...task.done, w.inFlight.command]);
      if (JSON.stringify(actual) === JSON.stringify(withIt) && JSON.stringify(withIt) !== JSON.stringify(acked)) {
        task.done.push(w.inFlight.command); // it became durable before its answer could leave
        continue;
      }
    }
    expect({ task: taskId, state: actual }).toEqual({ task: taskId, state: acked });
  }
  w.inFlight = undefined;
}

describe('crash', () => {
  it(`every acknowledged change survives ${KILLS} SIGKILLs under load, all or nothing`, async () => {
    const dataDir = join(root, 'data');
    const configPath = join(root, 'config.json');
    writeFileSync(configPath, JSON.stringify(CONFIG));
    const workers: Worker[] = Array.from({ length: CLIENTS }, (_, id) => ({ id, tasks: [], inFlight: undefined, cursors: [], acks: 0 }));
    const start = (mode: string) => serve(['serve', '--port', '0', '--config', configPath, '--data', dataDir, '--durability', mode]);
    let served: Served = await start('batch');
    let inFlightApplied = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const clients = workers.map(() => new Client(served.url, AUTH));
      const stop = { stopped: false };
      const load = Promise.all(workers.map((w, i) => drive(w, clients[i], stop)));
      // a random moment: after some load, sometimes during the first requests
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 450)));
      served.child.kill('SIGKILL');
      await served.exited;
      stop.stopped = true;
      await load;
      for (const c of clients) c.close();
      const before = workers.map((w) => w.tasks.reduce((n, t) => n + t.done.length, 0));
      served = await start(MODES[kill % MODES.length]);
      expect(served.output()).toMatch(/recovered 1 project, [\d,]+ tasks? \([\d,]+ nodes?\) and [\d,]+ journaled changes? from /);
      const client = new Client(served.url, AUTH);
      for (const w of workers) await reconcile(w, client);
      client.close();
      inFlightApplied += workers.reduce((n, w, i) => n + w.tasks.reduce((m, t) => m + t.done.length, 0) - before[i], 0);
    }
    // A last run to the end of each worker's current task, then a clean stop.
    const clients = workers.map(() => new Client(served.url, AUTH));
    await Promise.all(
      workers.map(async (w, i) => {
        const last = w.tasks[w.tasks.length - 1];
        while (last && last.done.length < last.script.length) {
          const command = last.script[last.done.length];
          const answer = await send(clients[i], last, command);
          expect(answer.json).toMatchObject({ result: true });
          last.done.push(command);
        }
      }),
    );
    for (const c of clients) c.close();
    const client = new Client(served.url, AUTH);
    for (const w of workers) await reconcile(w, client);
    client.close();
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);

    for (const w of workers) expect(w.cursors).toEqual([...w.cursors].sort((x, y) => x - y));
    const acks = workers.reduce((n, w) => n + w.acks, 0);
    expect(acks).toBeGreaterThan(KILLS * 10);
    const report = await verifyJournal(dataDir);
    expect(report.problems).toEqual([]);
    expect(report.recovery!.tasks).toBe(workers.reduce((n, w) => n + w.tasks.length, 0));
    console.log(`crash: ${KILLS} kills, ${acks} acknowledged commands, ${inFlightApplied} in-flight ones found durable after a kill`);
  }, 180_000);
});
