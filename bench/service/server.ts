/**
 * A pipestate service for the "service under load" section, built from the source tree given as
 * the first argument: this tree, or the baseline (the code before issue 8, see baseline.ts), so
 * that both are measured the same way in the same run. It serves on a free loopback port, prints
 * `{"port": …}` once listening, and takes commands on stdin (one JSON object a line) to change its
 * engine directly, answering each with one JSON line.
 *
 *   node --import tsx bench/service/server.ts <root> '<server options as JSON>'
 *
 * State: project 1 (business 1); task 1, a nested 10^4-node pipeline (fan-out 10, depth 4)
 * driven 60% through its pass (about 6,000 nodes answered, ~1.9 MB of JSON); task 2, root → a,
 * both running, for writers and watchers. App `bench` sees everything.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { MACHINE_OPERATIONS, type Operation } from '../../src/lifecycle/index.js';
import { nestedPipeline } from '../trees.js';
import { frontierPrefix } from '../workloads.js';

import { APP } from './app.js';

interface EngineLike {
  createProject(p: unknown): unknown;
  createTask(t: unknown): unknown;
  apply(taskId: string, nodeId: string, op: string): { seq: number }[];
}

const [root, optionsJson = '{}'] = process.argv.slice(2);
const { createEngine } = (await import(`${root}/src/api/engine.ts`)) as { createEngine: (o: unknown) => EngineLike };
const { createServer } = (await import(`${root}/src/api/http/server.ts`)) as {
  createServer: (e: EngineLike, o: unknown) => import('node:http').Server;
};

const engine = createEngine({ rerunLimit: 1e9 });
engine.createProject({ id: '1', bk_biz_id: '1', name: 'bench' });
const tree = nestedPipeline({ nodes: 1e4, fanOut: 10, depth: 4 });
engine.createTask({ id: '1', project_id: '1', name: 'big', pipeline: tree.definition });
const prefix = frontierPrefix(tree.flat, 0.6);
const names = MACHINE_OPERATIONS as readonly Operation[];
for (let k = 0; k < prefix.ids.length; k++) engine.apply('1', prefix.ids[k], names[prefix.ops[k]]);
engine.createTask({
  id: '2',
  project_id: '1',
  name: 'small',
  pipeline: { id: 'root', kind: 'pipeline', name: 'small', children: [{ id: 'a', kind: 'activity', name: 'A' }] },
});
engine.apply('2', 'root', 'start');
engine.apply('2', 'a', 'start');

const server = createServer(engine, {
  apps: [{ ...APP, projects: '*' }],
  logger: { error: (m: string, e: unknown) => console.error(`server: ${m}`, e) },
  ...JSON.parse(optionsJson),
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
console.log(JSON.stringify({ port: (server.address() as import('node:net').AddressInfo).port }));

/**
 * Commands: `{"churn": n}` makes n changes of task 2's node a (finish, reenter, …) and answers
 * the last cursor; `{"cpu": true}` answers the CPU this process has used so far, in ms.
 */
let finished = false;
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { churn?: number; cpu?: boolean };
  if (command.cpu) {
    const { user, system } = process.cpuUsage();
    console.log(JSON.stringify({ cpuMs: (user + system) / 1000 }));
    continue;
  }
  let last = 0;
  for (let i = 0; i < (command.churn ?? 0); i++) {
    [{ seq: last }] = engine.apply('2', 'a', finished ? 'reenter' : 'finish');
    finished = !finished;
  }
  console.log(JSON.stringify({ cursor: last }));
}
server.close();
process.exit(0);
