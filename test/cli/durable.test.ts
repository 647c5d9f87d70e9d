/**
 * `pipestate serve --data` and `pipestate journal verify`: what serve says at start (recovered,
 * or memory only), that a clean stop keeps everything, that a data directory that cannot be used
 * stops it naming the path, and what verify reports about a sound and a damaged directory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startService } from '../../src/cli/serve.js';
import { Client, serve } from '../journal/service.js';
import { PIPELINE } from '../journal/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pipestate-cli-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CONFIG = {
  projects: [{ id: '1', bk_biz_id: '2', name: 'one' }],
  apps: [{ bk_app_code: 'ops', bk_app_secret: 'ops-secret', projects: '*' }],
};
const AUTH = { bk_app_code: 'ops', bk_app_secret: 'ops-secret', bk_username: 'olga' };
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify(CONFIG));

async function inProcess(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: {},
    stdoutIsTTY: false,
  });
  return { code, stdout, stderr };
}

describe('pipestate serve --data', () => {
  it('says what it recovered before it listens, and a clean stop keeps every change', async () => {
    const dataDir = join(dir, 'kept');
    const first = await serve(['serve', '--port', '0', '--config', configPath, '--data', dataDir]);
    expect(first.output()).toContain(`pipestate: recovered 0 projects, 0 tasks (0 nodes) and 0 journaled changes from ${dataDir} in `);
    expect(first.output()).toMatch(/; durability: batch\npipestate: listening on /);
    const client = new Client(first.url, AUTH);
    expect((await client.createTask('2', 'ten', PIPELINE)).json).toMatchObject({ result: true, data: { task_id: 1 } });
    expect((await client.post('node_event', { bk_biz_id: '2', task_id: '1', node_id: 'root', event: 'start' })).json).toMatchObject({
      result: true,
      data: { cursor: 2 },
    });
    client.close();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await serve(['serve', '--port', '0', '--config', configPath, '--data', dataDir, '--durability', 'always']);
    // The clean stop wrote a checkpoint: nothing is left to replay.
    expect(second.output()).toMatch(
      new RegExp(`recovered 1 project, 1 task \\(5 nodes\\) and 0 journaled changes from ${dataDir} in [0-9.]+ s; durability: always`),
    );
    const again = new Client(second.url, AUTH);
    const status = await again.post('get_task_status', { bk_biz_id: '2', task_id: '1' });
    expect(status.json).toMatchObject({ result: true, data: { state: 'RUNNING' } });
    expect((await again.post('node_event', { bk_biz_id: '2', task_id: '1', node_id: 'a', event: 'start' })).json).toMatchObject({
      data: { cursor: 3 },
    });
    again.close();
    second.child.kill('SIGKILL');
    await second.exited;

    const verified = await inProcess(['journal', 'verify', dataDir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      new RegExp(
        `^ok  ${dataDir}\n  checkpoint: at position 3 \\(seq 2\\), 1 tasks, 5 nodes, taken .*\n  journal: 1 entries after it, up to position 4\n  state: 1 projects, 1 tasks, 5 nodes; next seq 4\n  archive: 0 tasks\n$`,
      ),
    );
  });

  it('without a data directory, says that state is in memory only', async () => {
    const lines: string[] = [];
    const service = await startService({
      port: 0,
      host: '127.0.0.1',
      configPath,
      noAuth: false,
      env: {},
      log: (l) => lines.push(l),
      warn: () => {},
    });
    await service.close();
    expect(lines[0]).toBe('pipestate: state is in memory only: nothing survives a restart (pass --data <dir> to keep it)');
    expect(service.engine.storageStatus()).toEqual({ storage: 'memory' });
  });

  it('takes data_dir from the configuration, relative to the file; refuses a project that changed', async () => {
    const sub = join(dir, 'configured');
    mkdirSync(sub);
    const file = join(sub, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...CONFIG,
        data_dir: 'state',
        durability: { mode: 'off' },
        retention: { archive_after_hours: 1, expire_after_hours: 2 },
      }),
    );
    const lines: string[] = [];
    const service = await startService({
      port: 0,
      host: '127.0.0.1',
      configPath: file,
      noAuth: false,
      env: {},
      log: (l) => lines.push(l),
      warn: () => {},
    });
    expect(service.engine.storageStatus()).toEqual({ storage: 'journal', data_dir: join(sub, 'state'), durability: 'off', journal: 'ok' });
    await service.close();
    writeFileSync(file, JSON.stringify({ ...CONFIG, projects: [{ id: '1', bk_biz_id: '2', name: 'renamed' }], data_dir: 'state' }));
    const refused = await inProcess(['serve', '--port', '0', '--config', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `pipestate serve: ${file}: projects[0]: project 1 in ${join(sub, 'state')} is {"id":"1","bk_biz_id":"2","name":"one","time_zone":"Asia/Shanghai"}; a registered project cannot change\n`,
    );
  });

  it('refuses to start on a data directory it cannot use, naming the path and the cause', async () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'pipestate.db'), 'not a database at all'.repeat(300));
    const r = await inProcess(['serve', '--port', '0', '--config', configPath, '--data', foreign]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pipestate serve: ${join(foreign, 'pipestate.db')}: is not a pipestate data file: not an SQLite database (SQLITE_NOTADB: file is not a database)\n`,
    );
    const mode = await inProcess(['serve', '--port', '0', '--config', configPath, '--data', join(dir, 'x'), '--durability', 'sometimes']);
    expect(mode.stderr).toBe('pipestate serve: durability must be one of always, batch, off, not "sometimes"\n');
  });
});

describe('pipestate journal verify', () => {
  it('reports the problems of a damaged directory and exits 1; a directory that is not one exits 2', async () => {
    const dataDir = join(dir, 'damaged');
    const service = await startService({
      port: 0,
      host: '127.0.0.1',
      configPath,
      dataDir,
      noAuth: false,
      env: {},
      log: () => {},
      warn: () => {},
    });
    service.engine.createTask({ id: '10', project_id: '1', name: 'ten', pipeline: PIPELINE });
    service.engine.start('10', 'root');
    await service.engine.durable();
    service.engine.start('10', 'a');
    await service.close();
    const db = new Database(join(dataDir, 'pipestate.db'));
    db.prepare('UPDATE checkpoint_part SET body = CAST(replace(CAST(body AS TEXT), \'"root"\', \'"toor"\') AS BLOB)').run();
    db.close();
    const r = await inProcess(['journal', 'verify', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^PROBLEMS  ${dataDir}\n`));
    expect(r.stdout).toMatch(/\n {2}problem: part \d+ of the checkpoint at position \d+ is corrupt \(checksum mismatch\)\n$/);

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const none = await inProcess(['journal', 'verify', empty]);
    expect([none.code, none.stderr]).toEqual([2, `pipestate journal: ${empty}: holds no pipestate.db\n`]);
    const usage = await inProcess(['journal', 'check', empty]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown journal command "check"; try verify/);
  });
});
