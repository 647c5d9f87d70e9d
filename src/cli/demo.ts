/**
 * `pipestate demo`: serves the demo configuration and plays a realistic release pipeline at human
 * speed, so that `pipestate status … --watch` in another terminal has something to show: parallel
 * activities, a subprocess nested two levels deep, a failure then a retry, a pause and resume, a
 * loop re-entry, a failure skipped. The run is data (DEMO_STEPS), played against the engine
 * in process, as an orchestrator would report it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../api/engine.js';
import type { Json, Operation } from '../lifecycle/index.js';
import type { NodeDefinition } from '../model/index.js';
import { DEFAULT_PORT, startService, type Service } from './serve.js';

/** config/demo.json, from src/cli or dist/cli alike */
export const DEMO_CONFIG = fileURLToPath(new URL('../../config/demo.json', import.meta.url));
export const DEMO_TASK_ID = '1001';
export const DEMO_BIZ_ID = '2';

export const DEMO_PIPELINE: NodeDefinition = {
  id: 'release',
  kind: 'pipeline',
  name: 'Release web-shop 2.4',
  children: [
    { id: 'start', kind: 'event', name: 'Start' },
    { id: 'fetch', kind: 'activity', name: 'Fetch release package' },
    { id: 'fork', kind: 'gateway', name: 'Parallel gateway' },
    { id: 'build_web', kind: 'activity', name: 'Build frontend' },
    { id: 'build_api', kind: 'activity', name: 'Build backend' },
    { id: 'join', kind: 'gateway', name: 'Converge gateway' },
    {
      id: 'deploy',
      kind: 'subprocess',
      name: 'Deploy to production',
      children: [
        { id: 'migrate', kind: 'activity', name: 'Migrate database' },
        {
          id: 'rollout',
          kind: 'subprocess',
          name: 'Rolling update',
          children: [
            { id: 'canary', kind: 'activity', name: 'Canary batch (5%)' },
            { id: 'fleet', kind: 'activity', name: 'Remaining hosts' },
            { id: 'health', kind: 'activity', name: 'Health check' },
          ],
        },
      ],
    },
    { id: 'notify', kind: 'activity', name: 'Notify chat channel' },
    { id: 'end', kind: 'event', name: 'End' },
  ],
};

type Op = readonly [Operation, string, { readonly ex_data?: Json }?];

export interface DemoStep {
  /** what a person watching should notice */
  readonly say: string;
  /** applied together, as an orchestrator reports parallel branches */
  readonly ops: readonly Op[];
  /** extra beats to wait after the step, so the interesting states stay on screen */
  readonly hold?: number;
}

export const DEMO_STEPS: readonly DemoStep[] = [
  {
    say: 'the pipeline starts',
    ops: [
      ['start', 'release'],
      ['start', 'start'],
    ],
  },
  {
    say: 'fetching the release package',
    ops: [
      ['finish', 'start'],
      ['start', 'fetch'],
    ],
  },
  {
    say: 'the parallel gateway opens two branches',
    ops: [
      ['finish', 'fetch'],
      ['start', 'fork'],
      ['finish', 'fork'],
    ],
  },
  {
    say: 'frontend and backend build in parallel',
    ops: [
      ['start', 'build_web'],
      ['start', 'build_api'],
    ],
    hold: 1,
  },
  { say: 'the frontend build is done', ops: [['finish', 'build_web']] },
  {
    say: 'the backend build is done; the branches converge',
    ops: [
      ['finish', 'build_api'],
      ['start', 'join'],
      ['finish', 'join'],
    ],
  },
  {
    say: 'entering the subprocess "Deploy to production"',
    ops: [
      ['start', 'deploy'],
      ['start', 'migrate'],
    ],
  },
  {
    say: 'the migration FAILS: the whole task shows FAILED',
    hold: 2,
    ops: [
      ['fail', 'migrate', { ex_data: 'migration 0042_add_order_index failed: lock wait timeout exceeded; try restarting transaction' }],
    ],
  },
  { say: 'an operator retries the migration (retry 1)', ops: [['retry', 'migrate']] },
  { say: 'the migration runs again', ops: [['start', 'migrate']] },
  {
    say: 'the migration succeeds; entering the nested subprocess "Rolling update" (two levels deep)',
    ops: [
      ['finish', 'migrate'],
      ['start', 'rollout'],
      ['start', 'canary'],
    ],
  },
  { say: 'an operator PAUSES "Remaining hosts" before it runs: the flow shows NODE_SUSPENDED', ops: [['pause', 'fleet']], hold: 2 },
  { say: 'the canary batch is done', ops: [['finish', 'canary']] },
  { say: 'the operator RESUMES "Remaining hosts"', ops: [['resume', 'fleet']] },
  { say: 'rolling out to the remaining hosts', ops: [['start', 'fleet']], hold: 1 },
  {
    say: 'health check',
    ops: [
      ['finish', 'fleet'],
      ['start', 'health'],
    ],
  },
  { say: 'health check passed once', ops: [['finish', 'health']] },
  { say: 'the loop ENTERS the health check again (loop 2)', ops: [['reenter', 'health']], hold: 1 },
  { say: 'health check passed twice', ops: [['finish', 'health']] },
  {
    say: 'both subprocesses finish',
    ops: [
      ['finish', 'rollout'],
      ['finish', 'deploy'],
    ],
  },
  { say: 'notifying the chat channel', ops: [['start', 'notify']] },
  {
    say: 'the notification FAILS',
    hold: 2,
    ops: [['fail', 'notify', { ex_data: { error: 'webhook answered 502 Bad Gateway', url: 'https://chat.example.com/hooks/release' } }]],
  },
  { say: 'an operator SKIPS the notification', ops: [['skip', 'notify']] },
  {
    say: 'the pipeline ends',
    ops: [
      ['start', 'end'],
      ['finish', 'end'],
      ['finish', 'release'],
    ],
  },
];

/** Plays the run: one step per beat. Every operation must be accepted; a refusal is a bug and throws. */
export async function playDemo(
  engine: Engine,
  taskId: string,
  beatMs: number,
  say: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  for (const [i, step] of DEMO_STEPS.entries()) {
    if (signal?.aborted) return;
    for (const [op, node, args] of step.ops) engine.apply(taskId, node, op, args);
    say(`[${String(i + 1).padStart(2)}/${DEMO_STEPS.length}] ${step.say}`);
    await delay(beatMs * (1 + (step.hold ?? 0)), undefined, { signal }).catch(() => undefined);
  }
}

export interface DemoOptions {
  readonly port: number;
  readonly host: string;
  readonly beatMs: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** The commands to look at the demo, for the person running it. */
export function demoCommands(url: string, port: number, uiUrl?: string): string[] {
  const target = port === DEFAULT_PORT ? '' : ` --url ${url}`;
  const auth = ' --app-code demo --app-secret demo-secret --username demo';
  const q = `bk_biz_id=${DEMO_BIZ_ID}&task_id=${DEMO_TASK_ID}&with_ex_data=true&bk_app_code=demo&bk_app_secret=demo-secret&bk_username=demo`;
  return [
    ...(uiUrl ? [`In a browser: ${uiUrl} (app code demo, secret demo-secret, any user name, business ${DEMO_BIZ_ID})`, ''] : []),
    'In another terminal:',
    `  watch it live:   npx pipestate status ${DEMO_TASK_ID} --biz ${DEMO_BIZ_ID}${target}${auth} --watch`,
    `  once:            npx pipestate status ${DEMO_TASK_ID} --biz ${DEMO_BIZ_ID}${target}${auth}`,
    `  a subprocess:    npx pipestate status ${DEMO_TASK_ID} --biz ${DEMO_BIZ_ID}${target}${auth} --subprocess rollout`,
    `  raw JSON:        curl -s '${url}/api/c/compapi/v2/sops/get_task_status/?${q}'`,
    `  metrics:         curl -s ${url}/metrics`,
  ];
}

/** Serves and starts playing the run; `played` settles when the run is over. */
export async function startDemo(o: DemoOptions): Promise<{ readonly service: Service; readonly played: Promise<void> }> {
  const service = await startService({
    port: o.port,
    host: o.host,
    configPath: DEMO_CONFIG,
    noAuth: false,
    env: o.env,
    log: o.log,
    warn: o.warn,
  });
  service.engine.createTask({ id: DEMO_TASK_ID, project_id: '1', name: 'Release web-shop 2.4', pipeline: DEMO_PIPELINE });
  for (const line of demoCommands(service.url, o.port, service.uiUrl)) o.log(line);
  o.log('');
  return { service, played: playDemo(service.engine, DEMO_TASK_ID, o.beatMs, o.log, o.signal) };
}
