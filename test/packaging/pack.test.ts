/**
 * The package as a user gets it: `npm pack` (which builds first, through `prepack`), the tarball
 * installed into an empty scratch project, then `npx pipestate --help` and
 * `import { createEngine } from 'pipestate'` there. The pack runs in a copy of the sources, so
 * the working tree gets no dist/ (the CLI tests run the sources, never a stale build).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
// what the build reads (web/: the web view's sources, bundled into dist/ui) and what ships
const SHIPPED_FROM_SOURCE = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
  'src',
  'bin',
  'config',
  'docs',
  'web',
];

let scratch: string;
let tarball: string;
let files: string[];
let app: string;

const run = (cmd: string, args: readonly string[], cwd: string): string =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pipestate-pack-'));
  const source = join(scratch, 'source');
  mkdirSync(source);
  for (const entry of SHIPPED_FROM_SOURCE)
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], source)) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(scratch, packed.filename);
  files = packed.files.map((f) => f.path).sort();
  app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  // From the local cache when it has the dependencies; the registry otherwise.
  run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], app);
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the build, the command, the demo configuration, the licence and the docs, and no sources or tests', () => {
    for (const f of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/ui/index.html',
      'dist/ui/app.js',
      'dist/ui/styles.css',
      'bin/pipestate.js',
      'config/demo.json',
      'docs/contract.md',
      'LICENSE',
      'README.md',
      'package.json',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|bench|web)\//.test(f))).toEqual([]);
  });

  it('every source map names only what ships or carries the source it names', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const installed = join(app, 'node_modules', 'pipestate');
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(installed, f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      map.sources.forEach((s, i) => {
        const shipped = existsSync(join(installed, f, '..', s));
        expect(shipped || typeof map.sourcesContent?.[i] === 'string', `${f} → ${s}`).toBe(true);
      });
    }
  });

  it('the LICENSE is the MIT licence package.json declares', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
  });
});

describe('installed from the tarball', () => {
  it('npx pipestate --help prints the usage and exits 0', () => {
    const out = run('npx', ['--no-install', 'pipestate', '--help'], app);
    expect(out).toMatch(/Usage: pipestate <command>/);
  });

  it("import { createEngine } from 'pipestate' works, with its types", () => {
    const script = [
      "import { createEngine, ManualClock } from 'pipestate';",
      'const time = new ManualClock(0);',
      'const e = createEngine({ clock: time.now, timers: time });',
      "e.createProject({ id: '1', bk_biz_id: '2', name: 'p' });",
      "e.createTask({ id: '10', project_id: '1', name: 't', pipeline: { id: 'r', kind: 'pipeline' } });",
      "e.start('10', 'r');",
      "console.log(JSON.stringify(e.getTasksStatus({ bk_biz_id: '2', task_id_list: '10' }).data.map((t) => [t.id, t.status.state])));",
    ].join('\n');
    expect(run(process.execPath, ['--input-type=module', '-e', script], app).trim()).toBe('[[10,"RUNNING"]]');
    expect(existsSync(join(app, 'node_modules', 'pipestate', 'dist', 'index.d.ts'))).toBe(true);
  });
});
