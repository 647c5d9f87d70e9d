/**
 * Quotas: how much of the engine's memory one project may hold. Usage is counted as it changes
 * (a task registered or deleted, an attempt ended or dropped, ex_data written), never by a scan,
 * and a change that would take a project over a quota is refused before anything is written, so
 * one tenant filling its share neither changes the store nor stops the others.
 *
 * The four quantities are what the engine's memory grows with: tasks, their nodes (a record and
 * a definition entry each), the ended attempts kept in histories (a record each), and the
 * ex_data those records hold (measured as its JSON text). docs/service-limits.md gives the
 * memory each one costs.
 */
import { invalid, quotaExceeded } from '../model/index.js';
import { positiveInteger } from './limits.js';

export interface Quota {
  /** live (registered, not deleted) tasks */
  readonly maxTasks: number;
  /** nodes, roots included, of all live tasks */
  readonly maxNodes: number;
  /** bytes of the JSON text (UTF-8) of the ex_data held: current records and histories */
  readonly maxExDataBytes: number;
  /** ended attempts kept in the histories of all live tasks */
  readonly maxHistories: number;
}

/**
 * The defaults, sized so that a project using all of them holds about 0.6-0.9 GB of heap
 * (~330 B a node, ~265 B an ended attempt, 1-3 bytes of heap per byte of ex_data text): a
 * service on Node's default heap (2-4 GB) keeps room for a few such projects and for answering.
 * A task of 10^6 nodes fits; more needs a larger maxNodes (docs/service-limits.md).
 */
export const DEFAULT_QUOTA: Quota = Object.freeze({
  maxTasks: 10_000,
  maxNodes: 1_000_000,
  maxExDataBytes: 128 * 1024 * 1024,
  maxHistories: 500_000,
});

const QUOTA_KEYS = Object.keys(DEFAULT_QUOTA) as (keyof Quota)[];

/** Quotas as configured: over DEFAULT_QUOTA, a default for every project, then per project id. */
export interface QuotaTable {
  readonly default?: Partial<Quota>;
  readonly projects?: Readonly<Record<string, Partial<Quota>>>;
}

const TABLE_KEYS: ReadonlySet<string> = new Set(['default', 'projects']);

const isObject = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

function quotaOver(base: Quota, raw: unknown, field: string): Quota {
  if (!isObject(raw)) throw invalid(field, 'must be an object');
  const out: Record<string, number> = { ...base };
  for (const key of Object.keys(raw)) {
    if (!(QUOTA_KEYS as string[]).includes(key)) throw invalid(`${field}.${key}`, `is not a quota (quotas are ${QUOTA_KEYS.join(', ')})`);
    out[key] = positiveInteger(raw[key], `${field}.${key}`);
  }
  return Object.freeze(out as unknown as Quota);
}

/**
 * Checks a quota table and answers the quota of any project id. Refuses (3540000, naming the
 * field) unknown keys and values that are not positive integers. Project ids are plain keys of a
 * Map here: "__proto__" is a project id like any other.
 */
export function quotasOf(table: QuotaTable | undefined, field = 'quotas'): (projectId: string) => Quota {
  if (table === undefined) return () => DEFAULT_QUOTA;
  if (!isObject(table)) throw invalid(field, 'must be an object');
  for (const key of Object.keys(table)) {
    if (!TABLE_KEYS.has(key)) throw invalid(`${field}.${key}`, `is not known (known: ${[...TABLE_KEYS].join(', ')})`);
  }
  const base = table.default === undefined ? DEFAULT_QUOTA : quotaOver(DEFAULT_QUOTA, table.default, `${field}.default`);
  const projects = new Map<string, Quota>();
  if (table.projects !== undefined) {
    if (!isObject(table.projects)) throw invalid(`${field}.projects`, 'must be an object keyed by project id');
    for (const id of Object.keys(table.projects)) {
      projects.set(id, quotaOver(base, table.projects[id], `${field}.projects.${id}`));
    }
  }
  return (projectId) => projects.get(projectId) ?? base;
}

/** What a project holds now. */
export interface Usage {
  readonly tasks: number;
  readonly nodes: number;
  readonly exDataBytes: number;
  readonly histories: number;
}

const doing = (op: string, taskId: string, nodeId: string): string => `this ${op} of node ${nodeId} of task ${taskId}`;

/** A project's live usage and its quota. */
export class ProjectUsage implements Usage {
  tasks = 0;
  nodes = 0;
  exDataBytes = 0;
  histories = 0;

  constructor(
    readonly projectId: string,
    readonly quota: Quota,
  ) {}

  /** Refuses a new task of `nodes` nodes unless both the task and node quotas have room. */
  checkTask(taskId: string, nodes: number): void {
    const q = this.quota;
    if (this.tasks + 1 > q.maxTasks) throw quotaExceeded('maxTasks', this.projectId, q.maxTasks, this.tasks, `task ${taskId} adds 1`);
    if (this.nodes + nodes > q.maxNodes)
      throw quotaExceeded('maxNodes', this.projectId, q.maxNodes, this.nodes, `task ${taskId} adds ${nodes}`);
  }

  /** Refuses an operation that would keep one more ended attempt in the project's histories. */
  checkAttempt(op: string, taskId: string, nodeId: string): void {
    const q = this.quota;
    if (this.histories + 1 > q.maxHistories)
      throw quotaExceeded(
        'maxHistories',
        this.projectId,
        q.maxHistories,
        this.histories,
        `${doing(op, taskId, nodeId)} ends 1 more attempt(s)`,
      );
  }

  /**
   * Refuses an operation that would hold `bytes` more ex_data. One that holds as much or less
   * passes even over the quota: a store restored under a lower quota can hold more than it
   * allows, and must still let its tasks shrink.
   */
  checkExData(op: string, taskId: string, nodeId: string, bytes: number): void {
    const q = this.quota;
    if (bytes > 0 && this.exDataBytes + bytes > q.maxExDataBytes)
      throw quotaExceeded(
        'maxExDataBytes',
        this.projectId,
        q.maxExDataBytes,
        this.exDataBytes,
        `${doing(op, taskId, nodeId)} adds ${bytes} bytes`,
      );
  }
}

/** What one live task holds beyond its nodes, so that deleting it gives everything back. */
export class TaskUsage {
  exDataBytes = 0;
  histories = 0;

  constructor(readonly project: ProjectUsage) {}

  charge(histories: number, bytes: number): void {
    this.histories += histories;
    this.exDataBytes += bytes;
    this.project.histories += histories;
    this.project.exDataBytes += bytes;
  }
}
