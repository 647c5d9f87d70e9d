/**
 * `pipestate serve` as a child process (the TypeScript source through tsx, as the CLI suite runs
 * it), and a small keep-alive client for the commands an orchestrator sends. The create_task
 * request shape lives here only, so the crash and CLI suites follow the API in one place.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Agent, request } from 'node:http';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('PIPESTATE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'),
);

export interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  /** everything printed so far */
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts `pipestate <args>` and resolves once it listens (or rejects with what it printed when it exits first). */
export function serve(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: CLEAN_ENV });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      text += d;
      const m = text.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve({ child, url: m[1], output: () => text, exited });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => {
      text += d;
    });
    void exited.then((code) => reject(new Error(`pipestate exited (${code}) before listening:\n${text}`)));
  });
}

export interface Answer {
  readonly status: number;
  readonly json: { result: boolean; code: number; message: string; data: unknown };
}

export class Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly base: string,
    private readonly auth: Record<string, string>,
  ) {}

  /** POSTs an ESB-style command; rejects when the server cannot be reached or the connection drops. */
  post(name: string, body: Record<string, unknown>): Promise<Answer> {
    const text = JSON.stringify({ ...this.auth, ...body });
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.base}/api/c/compapi/v2/sops/${name}/`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['json'] });
            } catch (e) {
              reject(e);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  /** create_task as the API takes it: the service assigns the id (answered as data.task_id). */
  createTask(bizId: string, name: string, pipeline: unknown): Promise<Answer> {
    return this.post('create_task', { bk_biz_id: bizId, name, pipeline });
  }

  close(): void {
    this.agent.destroy();
  }
}
