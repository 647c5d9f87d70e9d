/**
 * The `pipestate` command. Subcommands are a table: each names its options (node:util parseArgs),
 * its usage text and what it runs. Exit codes: 0 ok, 1 the server refused, 2 usage or
 * configuration error, 3 the server could not be reached, 70 a bug (one line, never a stack
 * trace unless PIPESTATE_DEBUG is set).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, ENV } from '../api/http/config.js';
import { DIGITS_PATTERN, ID_PATTERN, TASK_ID_RULE, taskIdOf } from '../model/index.js';
import { JournalError } from '../store/journal/index.js';
import { startDemo } from './demo.js';
import { runVerify } from './journal.js';
import { DEFAULT_HOST, DEFAULT_PORT, startService, untilSignal } from './serve.js';
import { EXIT, runStatus } from './status.js';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  /** the terminal's width in columns, when stdout is one */
  readonly columns?: number;
}

type Options = NonNullable<ParseArgsConfig['options']>;

class UsageError extends Error {}

/** Parsed arguments, read with the checks each kind of value needs. */
class Args {
  constructor(
    private readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>,
    readonly positionals: readonly string[],
  ) {}

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
    return Number(v);
  }

  /** An option whose value must match; the usage error names the option, the rule and the value. */
  matching(name: string, test: (v: string) => boolean, rule: string): string | undefined {
    const v = this.string(name);
    if (v !== undefined && !test(v)) throw new UsageError(`--${name} must be ${rule}; got ${JSON.stringify(v)}`);
    return v;
  }
}

const SCOPES = ['cmdb_biz', 'project'] as const;
type Scope = (typeof SCOPES)[number];

/** An http:// or https:// URL, else a usage error naming where it came from. */
function serviceUrl(value: string, from: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`${from} must be an http:// or https:// URL; got ${JSON.stringify(value)}`);
  }
  return value;
}

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly positionals: readonly string[];
  readonly run: (args: Args, io: Io) => Promise<number>;
}

const HELP: Options = { help: { type: 'boolean', short: 'h' } };
const LISTEN: Options = { port: { type: 'string', short: 'p' }, host: { type: 'string' } };

const line = (io: Io, write: 'out' | 'err') => (text: string) => io[write](`${text}\n`);

const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  [
    'serve',
    {
      summary: 'serve the HTTP API (state kept in --data <dir> or --postgres <url>, else in memory)',
      usage: `pipestate serve [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [--config <file>] [--data <dir>] [--durability batch]
                 [--postgres <url>] [--no-auth] [--no-ui] [--max-body-bytes <n>] [--max-definition-bytes <n>]

  --config <file>             projects, apps and limits (JSON); default: $${ENV.config}
  --data <dir>                keep state in this directory, recovered at start (default: the
                              configuration's data_dir; without either, state is in memory only)
  --durability <mode>         always | batch (default) | off: when a change counts as durable
  --postgres <url>            keep state in PostgreSQL, shared with every instance given the same URL
                              (default: $${ENV.databaseUrl}, else the configuration's database_url);
                              tables in schema $${ENV.databaseSchema} (default pipestate)
  --host <addr>               default ${DEFAULT_HOST} (loopback only); 0.0.0.0 to listen on every interface
  --port <n>                  default ${DEFAULT_PORT}; 0 picks a free port
  --no-auth                   accept every caller (local use only)
  --no-ui                     do not serve the web view (default: at /ui/)
  --max-body-bytes <n>        request bodies but create_task's; default 1048576 (1 MiB)
  --max-definition-bytes <n>  create_task bodies (a whole pipeline); default 67108864 (64 MiB)

  An extra app can come from $${ENV.appCode} / $${ENV.appSecret} (/ $${ENV.appProjects}).`,
      options: {
        ...HELP,
        ...LISTEN,
        config: { type: 'string', short: 'c' },
        data: { type: 'string', short: 'd' },
        durability: { type: 'string' },
        postgres: { type: 'string' },
        'no-auth': { type: 'boolean' },
        'no-ui': { type: 'boolean' },
        'max-body-bytes': { type: 'string' },
        'max-definition-bytes': { type: 'string' },
      },
      positionals: [],
      run: async (args, io) => {
        const bytes = (name: string): number | undefined =>
          args.string(name) === undefined ? undefined : args.int(name, 0, 1, Number.MAX_SAFE_INTEGER);
        const service = await startService({
          port: args.int('port', DEFAULT_PORT, 0, 65535),
          host: args.string('host') ?? DEFAULT_HOST,
          configPath: args.string('config'),
          dataDir: args.string('data'),
          durability: args.string('durability'),
          noAuth: args.flag('no-auth'),
          noUi: args.flag('no-ui'),
          env: io.env,
          log: line(io, 'out'),
          warn: line(io, 'err'),
          databaseUrl: args.string('postgres'),
          limits: {
            ...(bytes('max-body-bytes') !== undefined ? { max_body_bytes: bytes('max-body-bytes') } : {}),
            ...(bytes('max-definition-bytes') !== undefined ? { max_definition_bytes: bytes('max-definition-bytes') } : {}),
          },
        });
        await untilSignal();
        await service.close();
        return EXIT.ok;
      },
    },
  ],
  [
    'demo',
    {
      summary: 'serve the demo configuration and play a realistic run at human speed',
      usage: `pipestate demo [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [--beat-ms 1000] [--exit]

  --beat-ms <n>  ms between steps of the run; default 1000
  --exit         stop serving when the run is over (default: serve until Ctrl-C)`,
      options: { ...HELP, ...LISTEN, 'beat-ms': { type: 'string' }, exit: { type: 'boolean' } },
      positionals: [],
      run: async (args, io) => {
        const stop = new AbortController();
        const signalled = untilSignal().then(() => stop.abort());
        const { service, played } = await startDemo({
          port: args.int('port', DEFAULT_PORT, 0, 65535),
          host: args.string('host') ?? DEFAULT_HOST,
          beatMs: args.int('beat-ms', 1000, 0, 60_000),
          env: io.env,
          log: line(io, 'out'),
          warn: line(io, 'err'),
          signal: stop.signal,
        });
        await played;
        if (!stop.signal.aborted) {
          io.out('\nThe run is over.');
          if (!args.flag('exit')) {
            io.out(' Still serving; press Ctrl-C to stop.\n');
            await signalled;
          } else io.out('\n');
        }
        await service.close();
        return EXIT.ok;
      },
    },
  ],
  [
    'journal',
    {
      summary: 'check a data directory offline: pipestate journal verify <dir>',
      usage: `pipestate journal verify <dir>

  Checks every page (SQLite's integrity check), every checksum, position and seq, replays the
  journal into a scratch engine and reads back every archived task, without changing anything.
  Exits 0 when sound, 1 when a problem is found (each one printed), 2 when <dir> cannot be read
  (not a data directory, or in use by a running pipestate).`,
      options: HELP,
      positionals: ['verify', 'dir'],
      run: async (args, io) => {
        if (args.positionals[0] !== 'verify')
          throw new UsageError(`unknown journal command ${JSON.stringify(args.positionals[0])}; try verify`);
        return runVerify(args.positionals[1], io.out);
      },
    },
  ],
  [
    'status',
    {
      summary: 'draw the status tree of a task',
      usage: `pipestate status <task_id> --biz <bk_biz_id> [--url <url>] [--subprocess <node_id>] [--scope cmdb_biz|project] [--watch] [--json]

  --url <url>          default $PIPESTATE_URL or http://${DEFAULT_HOST}:${DEFAULT_PORT}
  --subprocess <id>    answer that node's subtree
  --watch              redraw on every change until the task finishes (Ctrl-C stops)
  --json               print the raw answer
  --app-code <code>    default $${ENV.appCode}
  --app-secret <s>     default $${ENV.appSecret}
  --username <name>    default $PIPESTATE_USERNAME, else your login name

  Colours are off when stdout is not a terminal or NO_COLOR is set.`,
      options: {
        ...HELP,
        biz: { type: 'string', short: 'b' },
        url: { type: 'string' },
        subprocess: { type: 'string', short: 's' },
        scope: { type: 'string' },
        watch: { type: 'boolean', short: 'w' },
        json: { type: 'boolean' },
        'app-code': { type: 'string' },
        'app-secret': { type: 'string' },
        username: { type: 'string', short: 'u' },
      },
      positionals: ['task_id'],
      run: async (args, io) => {
        const taskId = taskIdOf(args.positionals[0]);
        if (taskId === undefined) throw new UsageError(`<task_id> must be ${TASK_ID_RULE}; got ${JSON.stringify(args.positionals[0])}`);
        const biz = args.matching(
          'biz',
          (v) => DIGITS_PATTERN.test(v),
          'a business (or, with --scope project, a project) id: 1 to 32 digits',
        );
        if (biz === undefined) throw new UsageError('--biz <bk_biz_id> is required');
        const scope = args.matching('scope', (v) => (SCOPES as readonly string[]).includes(v), SCOPES.join(' or ')) as Scope | undefined;
        const subprocessId = args.matching('subprocess', (v) => ID_PATTERN.test(v), 'a node id: 1 to 64 characters of A-Z a-z 0-9 _ -');
        const url =
          args.string('url') !== undefined
            ? serviceUrl(args.string('url')!, '--url')
            : serviceUrl(io.env.PIPESTATE_URL ?? `http://${DEFAULT_HOST}:${DEFAULT_PORT}`, '$PIPESTATE_URL');
        const stop = new AbortController();
        const onSigint = () => stop.abort();
        process.once('SIGINT', onSigint);
        try {
          return await runStatus({
            url,
            taskId,
            bizId: biz,
            subprocessId,
            scope,
            credentials: {
              appCode: args.string('app-code') ?? io.env[ENV.appCode],
              appSecret: args.string('app-secret') ?? io.env[ENV.appSecret],
              username: args.string('username') ?? io.env.PIPESTATE_USERNAME ?? loginName(),
            },
            json: args.flag('json'),
            watch: args.flag('watch'),
            color: io.stdoutIsTTY && !io.env.NO_COLOR,
            redraw: io.stdoutIsTTY && !args.flag('json'),
            width: io.stdoutIsTTY ? io.columns : undefined,
            out: io.out,
            err: io.err,
            signal: stop.signal,
          });
        } finally {
          process.off('SIGINT', onSigint);
        }
      },
    },
  ],
]);

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'pipestate';
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function overview(): string {
  const rows = [...COMMANDS].map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`);
  return (
    `pipestate ${version()}: execution state of pipelines, served as the bk-sops API\n\nUsage: pipestate <command> [options]\n\n${rows.join('\n')}\n\n` +
    'pipestate <command> --help shows the options of a command.\n'
  );
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // No command is a usage error: the help goes where errors go, and the exit code says so.
    io.err(overview());
    return EXIT.usage;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    io.out(overview());
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.get(name);
  if (!command) {
    io.err(`pipestate: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return EXIT.usage;
  }
  try {
    const parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true });
    const args = new Args(parsed.values, parsed.positionals);
    if (args.flag('help')) {
      io.out(`${command.usage}\n`);
      return EXIT.ok;
    }
    checkPositionals(name, command, parsed.positionals);
    return await command.run(args, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
    ) {
      io.err(`pipestate ${name}: ${error.message}\n\nUsage: ${command.usage}\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(`pipestate ${name}: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof JournalError) {
      io.err(`pipestate ${name}: cannot start: ${error.message}\n`);
      return EXIT.unreachable;
    }
    // A bug: one line for the person at the terminal; the stack only when asked for.
    io.err(`pipestate ${name}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (io.env.PIPESTATE_DEBUG) io.err(`${error instanceof Error ? error.stack : ''}\n`);
    return EXIT.internal;
  }
}

function checkPositionals(name: string, command: Command, given: readonly string[]): void {
  const wanted = command.positionals;
  if (given.length === wanted.length) return;
  const names = wanted.map((p) => `<${p}>`).join(' ');
  if (wanted.length === 0) throw new UsageError(`${name} takes no arguments; got ${given.join(' ')}`);
  if (given.length < wanted.length) throw new UsageError(`${name} needs ${names}`);
  throw new UsageError(
    `${name} takes ${wanted.length === 1 ? 'one argument' : `${wanted.length} arguments`}, ${names}; got ${given.length}: ${given.join(' ')}`,
  );
}

/** The process's own stdio. */
export const processIo = (): Io => ({
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
});

// Run when started as a script (`node --import tsx src/cli/main.ts`); bin/pipestate.js imports
// main() instead.
const invoked = process.argv[1];
if (invoked !== undefined && pathToFileURL(realpathSync(invoked)).href === import.meta.url) {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`pipestate: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = EXIT.internal;
    },
  );
}
