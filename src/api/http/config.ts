/**
 * The service configuration: one JSON file holding the projects (SPEC §1) and the apps allowed
 * to call, plus optional apps from the environment (so a secret need not live in a file).
 *
 * {
 *   "projects": [{ "id": "1", "bk_biz_id": "2", "name": "Demo", "time_zone": "Asia/Shanghai" }],
 *   "apps": [{ "bk_app_code": "demo", "bk_app_secret": "…", "projects": ["1"] }]
 * }
 *
 * `projects` of an app lists the project ids it may see, or is "*" for every project.
 *
 * An optional `quotas` says what each project may hold (docs/service-limits.md):
 * `{ "default": { "maxTasks": …, "maxNodes": …, "maxExDataBytes": …, "maxHistories": … },
 *    "projects": { "1": { "maxTasks": … } } }`, each over the built-in defaults.
 * Optional service limits, each a positive whole number (README, "Limits under load"):
 * `max_body_bytes` (default 1 MiB), `max_definition_bytes` (create_task, default 64 MiB),
 * `max_concurrent_reads` (default 4) and `max_queued_reads` (default 64, may be 0).
 *
 * Durability (all optional; without `data_dir` state is in memory only):
 *   "data_dir": "/var/lib/pipestate",            (relative: to the file's directory)
 *   "durability": { "mode": "batch", "batch_ms": 5, "checkpoint_every": 100000 },
 *   "retention": { "archive_after_hours": 24, "expire_after_hours": 720 }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PipestateError, type ProjectInput } from '../../model/index.js';
import { quotasOf, type QuotaTable } from '../../store/index.js';

export interface AppConfig {
  readonly bk_app_code: string;
  readonly bk_app_secret: string;
  /** project ids this app may see, or '*' for all */
  readonly projects: '*' | readonly string[];
}

/** The service limits a configuration file may set; absent ones keep their defaults. */
export interface ServiceLimits {
  readonly max_body_bytes?: number;
  readonly max_definition_bytes?: number;
  readonly max_concurrent_reads?: number;
  readonly max_queued_reads?: number;
}

export interface DurabilityConfig {
  /** always, batch or off */
  readonly mode?: string;
  readonly batch_ms?: number;
  readonly checkpoint_every?: number;
}

export interface RetentionConfig {
  readonly archive_after_hours?: number;
  readonly expire_after_hours?: number;
}

export interface ServiceConfig {
  readonly projects: readonly ProjectInput[];
  readonly apps: readonly AppConfig[];
  /** per-project quotas over the defaults; absent: the defaults for every project */
  readonly quotas?: QuotaTable;
  /** get_tasks_status `url` template ({task_id}, {project_id}, {bk_biz_id}); absent: "" */
  readonly task_url?: string;
  readonly limits?: ServiceLimits;
  /** a PostgreSQL URL: the journal several instances share (issue 11); absent: in memory or data_dir */
  readonly database_url?: string;
  /** absolute, once loaded from a file */
  readonly data_dir?: string;
  readonly durability?: DurabilityConfig;
  readonly retention?: RetentionConfig;
}

/** Environment variables the service reads. */
export const ENV = {
  config: 'PIPESTATE_CONFIG',
  appCode: 'PIPESTATE_APP_CODE',
  appSecret: 'PIPESTATE_APP_SECRET',
  /** comma-separated project ids, or "*"; default "*" */
  appProjects: 'PIPESTATE_APP_PROJECTS',
  /** a PostgreSQL URL, as `--postgres` (which wins) and the file's database_url (which it beats) */
  databaseUrl: 'PIPESTATE_DATABASE_URL',
  /** the schema pipestate's tables live in; default "pipestate" (deployments sharing a database differ here) */
  databaseSchema: 'PIPESTATE_DATABASE_SCHEMA',
} as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const isObject = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The limit keys, and the least each may be. */
const LIMIT_KEYS: ReadonlyMap<keyof ServiceLimits, number> = new Map([
  ['max_body_bytes', 1],
  ['max_definition_bytes', 1],
  ['max_concurrent_reads', 1],
  ['max_queued_reads', 0],
] as const);
const TOP_KEYS: ReadonlySet<string> = new Set([
  'projects',
  'apps',
  'quotas',
  'task_url',
  'database_url',
  'data_dir',
  'durability',
  'retention',
  '$comment',
  ...LIMIT_KEYS.keys(),
]);
const DURABILITY_KEYS: ReadonlySet<string> = new Set(['mode', 'batch_ms', 'checkpoint_every']);
const RETENTION_KEYS: ReadonlySet<string> = new Set(['archive_after_hours', 'expire_after_hours']);
const PROJECT_KEYS: ReadonlySet<string> = new Set(['id', 'bk_biz_id', 'name', 'time_zone']);
const APP_KEYS: ReadonlySet<string> = new Set(['bk_app_code', 'bk_app_secret', 'projects']);

function checkKeys(value: Readonly<Record<string, unknown>>, allowed: ReadonlySet<string>, where: string, source: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key))
      throw new ConfigError(`${source}: ${where} has an unknown key ${JSON.stringify(key)} (known: ${[...allowed].join(', ')})`);
  }
}

const nonEmptyString = (v: unknown, where: string, source: string): string => {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${source}: ${where} must be a non-empty string`);
  return v;
};

/**
 * Checks the shape of a parsed configuration. The project fields themselves (digits, time zone,
 * unique business) are checked by the engine when the projects are created; app project lists
 * are checked against the project ids here, so a typo does not silently hide a project.
 */
export function parseConfig(json: unknown, source = 'config'): ServiceConfig {
  if (!isObject(json)) throw new ConfigError(`${source}: must be a JSON object with "projects" and "apps"`);
  checkKeys(json, TOP_KEYS, 'the top level', source);
  const rawProjects = json.projects ?? [];
  const rawApps = json.apps ?? [];
  if (!Array.isArray(rawProjects)) throw new ConfigError(`${source}: projects must be an array`);
  if (!Array.isArray(rawApps)) throw new ConfigError(`${source}: apps must be an array`);
  const projects = rawProjects.map((p: unknown, i): ProjectInput => {
    if (!isObject(p)) throw new ConfigError(`${source}: projects[${i}] must be an object`);
    checkKeys(p, PROJECT_KEYS, `projects[${i}]`, source);
    return p as unknown as ProjectInput;
  });
  const ids = new Set(projects.map((p) => p.id));
  const apps = rawApps.map((a: unknown, i) => parseApp(a, `apps[${i}]`, source, ids));
  const codes = new Set<string>();
  for (const app of apps) {
    if (codes.has(app.bk_app_code)) throw new ConfigError(`${source}: app ${app.bk_app_code} is configured twice`);
    codes.add(app.bk_app_code);
  }
  if (json.task_url !== undefined && typeof json.task_url !== 'string') throw new ConfigError(`${source}: task_url must be a string`);

  const limits: Record<string, number> = {};
  for (const [key, least] of LIMIT_KEYS) {
    const v = json[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < least)
      throw new ConfigError(`${source}: ${key} must be a whole number of at least ${least}`);
    limits[key] = v;
  }
  return {
    projects,
    apps,
    ...(json.quotas === undefined ? {} : { quotas: parseQuotas(json.quotas, source, ids) }),
    ...(typeof json.task_url === 'string' ? { task_url: json.task_url } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...durabilityOf(json, source),
    ...databaseOf(json, source),
  };
}

/** The quota table, checked as the engine will read it, and naming configured projects only. */
function parseQuotas(raw: unknown, source: string, projectIds: ReadonlySet<string>): QuotaTable {
  try {
    quotasOf(raw as QuotaTable);
  } catch (error) {
    if (error instanceof PipestateError) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
  const table = raw as QuotaTable;
  for (const id of Object.keys(table.projects ?? {})) {
    if (!projectIds.has(id))
      throw new ConfigError(`${source}: quotas.projects names project ${JSON.stringify(id)}, which is not configured`);
  }
  return table;
}

/** database_url: a PostgreSQL URL (issue 11). */
function databaseOf(json: Readonly<Record<string, unknown>>, source: string): Pick<ServiceConfig, 'database_url'> {
  if (json.database_url === undefined) return {};
  const url = nonEmptyString(json.database_url, 'database_url', source);
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError(`${source}: database_url must be a postgres:// URL`);
  return { database_url: url };
}

const number = (v: unknown, where: string, source: string, min: number): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new ConfigError(`${source}: ${where} must be a number of at least ${min}`);
  return v;
};

function section(
  json: Readonly<Record<string, unknown>>,
  key: string,
  keys: ReadonlySet<string>,
  source: string,
): Readonly<Record<string, unknown>> | undefined {
  const v = json[key];
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new ConfigError(`${source}: ${key} must be an object`);
  checkKeys(v, keys, key, source);
  return v;
}

/** data_dir, durability and retention, checked for shape; the engine checks the values' sense. */
function durabilityOf(
  json: Readonly<Record<string, unknown>>,
  source: string,
): Pick<ServiceConfig, 'data_dir' | 'durability' | 'retention'> {
  const out: { data_dir?: string; durability?: DurabilityConfig; retention?: RetentionConfig } = {};
  if (json.data_dir !== undefined) out.data_dir = nonEmptyString(json.data_dir, 'data_dir', source);
  const d = section(json, 'durability', DURABILITY_KEYS, source);
  if (d) {
    out.durability = {
      ...(d.mode !== undefined ? { mode: nonEmptyString(d.mode, 'durability.mode', source) } : {}),
      ...(d.batch_ms !== undefined ? { batch_ms: number(d.batch_ms, 'durability.batch_ms', source, 0) } : {}),
      ...(d.checkpoint_every !== undefined
        ? { checkpoint_every: number(d.checkpoint_every, 'durability.checkpoint_every', source, 1) }
        : {}),
    };
  }
  const r = section(json, 'retention', RETENTION_KEYS, source);
  if (r) {
    out.retention = {
      ...(r.archive_after_hours !== undefined
        ? { archive_after_hours: number(r.archive_after_hours, 'retention.archive_after_hours', source, 0) }
        : {}),
      ...(r.expire_after_hours !== undefined
        ? { expire_after_hours: number(r.expire_after_hours, 'retention.expire_after_hours', source, 0) }
        : {}),
    };
  }
  return out;
}

function parseApp(a: unknown, where: string, source: string, projectIds: ReadonlySet<string>): AppConfig {
  if (!isObject(a)) throw new ConfigError(`${source}: ${where} must be an object`);
  checkKeys(a, APP_KEYS, where, source);
  const code = nonEmptyString(a.bk_app_code, `${where}.bk_app_code`, source);
  const secret = nonEmptyString(a.bk_app_secret, `${where}.bk_app_secret`, source);
  const projects = a.projects ?? '*';
  if (projects === '*') return { bk_app_code: code, bk_app_secret: secret, projects };
  if (!Array.isArray(projects) || projects.some((p) => typeof p !== 'string')) {
    throw new ConfigError(`${source}: ${where}.projects must be "*" or an array of project ids`);
  }
  for (const p of projects as string[]) {
    if (!projectIds.has(p))
      throw new ConfigError(`${source}: ${where}.projects names project ${JSON.stringify(p)}, which is not configured`);
  }
  return { bk_app_code: code, bk_app_secret: secret, projects: [...(projects as string[])] };
}

/** Reads and checks a configuration file. Throws a ConfigError naming the file. */
export function loadConfig(path: string): ServiceConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: is not valid JSON (${(error as Error).message})`);
  }
  const config = parseConfig(json, path);
  // A relative data_dir is the file's, not the working directory's.
  return config.data_dir === undefined ? config : { ...config, data_dir: resolve(dirname(path), config.data_dir) };
}

/** The app given by PIPESTATE_APP_CODE / PIPESTATE_APP_SECRET / PIPESTATE_APP_PROJECTS, if any. */
export function appFromEnv(env: Env): AppConfig | undefined {
  const code = env[ENV.appCode];
  const secret = env[ENV.appSecret];
  if (!code && !secret) return undefined;
  if (!code || !secret) throw new ConfigError(`${ENV.appCode} and ${ENV.appSecret} must be set together`);
  const list = (env[ENV.appProjects] ?? '*').trim();
  const projects =
    list === '*' || list === ''
      ? '*'
      : list
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '');
  return { bk_app_code: code, bk_app_secret: secret, projects };
}

/**
 * The configuration the service runs with: the file (`--config`, else PIPESTATE_CONFIG) and the
 * environment's app, which replaces a file app of the same code.
 */
export function resolveConfig(path: string | undefined, env: Env): ServiceConfig {
  const file = path ?? env[ENV.config];
  const base = file ? loadConfig(file) : { projects: [], apps: [] };
  const extra = appFromEnv(env);
  if (!extra) return base;
  const ids = new Set(base.projects.map((p) => p.id));
  if (extra.projects !== '*') {
    for (const p of extra.projects) {
      if (!ids.has(p)) throw new ConfigError(`${ENV.appProjects} names project ${JSON.stringify(p)}, which is not configured`);
    }
  }
  return { ...base, apps: [...base.apps.filter((a) => a.bk_app_code !== extra.bk_app_code), extra] };
}
