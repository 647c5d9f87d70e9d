/**
 * The journal's bytes: entries, records, definitions and whole tasks as compact JSON arrays
 * (positional, so a record costs its values and not its keys), and a CRC-32 over each stored
 * unit. JSON because it is what V8 parses fastest and what a person can read with `sqlite3`;
 * positional arrays because recovery time is mostly parse time.
 *
 * Every stored unit (a batch of entries, a checkpoint part, an archived task) is checked against
 * its CRC before it is parsed: storage that was torn or corrupted is found, never replayed.
 */
import { crc32 as nativeCrc32 } from 'node:zlib';
import { freeze } from 'immer';
import {
  ACTIVE,
  ENGINE_OPERATIONS,
  NODE_KINDS,
  OPERATIONS,
  STATES,
  type EngineOperation,
  type Json,
  type NodeKind,
  type NodeRecord,
  type Operation,
  type State,
} from '../../lifecycle/index.js';
import {
  TRAIT_ERROR_IGNORABLE,
  compileDefinition,
  type NodeDefinition,
  type PipelineDefinition,
  type Project,
  type Task,
} from '../../model/index.js';
import type { NodeChange } from '../events.js';
import { historyAt, type TaskView } from '../task-slot.js';
import { forEachInRange } from '../trie.js';
import type { ArchivedEntry, JournalEntry } from './entries.js';

// ---------------------------------------------------------------------------------------------
// CRC-32 (zlib's, from Node 20.15; a table otherwise)

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function tableCrc32(data: Uint8Array, seed = 0): number {
  let c = ~seed;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export const crc32: (data: Uint8Array, seed?: number) => number =
  typeof nativeCrc32 === 'function' ? (d, s = 0) => nativeCrc32(d, s) : tableCrc32;

// ---------------------------------------------------------------------------------------------
// JSON as bytes: ASCII only (anything else escaped), so reading back is a one-byte latin1 decode
// and V8 parses a one-byte string; decoding UTF-8 and parsing two-byte strings costs several times more.

const NON_ASCII = /[\u007f-\uffff]/;
const EVERY_NON_ASCII = /[\u007f-\uffff]/g;
const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

export function toJsonBytes(value: unknown): Buffer {
  const text = JSON.stringify(value);
  return Buffer.from(NON_ASCII.test(text) ? text.replace(EVERY_NON_ASCII, escapeChar) : text, 'latin1');
}

export function fromJsonBytes(body: Uint8Array): unknown {
  return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'));
}

// ---------------------------------------------------------------------------------------------
// Records

const STATE_CODE = new Map<State, number>(STATES.map((s, i) => [s, i]));
/** A client's operations, then the engine's own (auto_retry): appended, so older codes keep their meaning. */
const JOURNALED_OPERATIONS: readonly (Operation | EngineOperation)[] = [...OPERATIONS, ...ENGINE_OPERATIONS];
const OP_CODE = new Map<Operation | EngineOperation, number>(JOURNALED_OPERATIONS.map((o, i) => [o, i]));

type RecordArray = (string | number | null | Json)[];

/** [state, version, loop, retry, skip, error_ignored, started_at, finished_at, state_refresh_at, auto_retry_times, ex_data?] */
export function encodeRecord(r: NodeRecord): RecordArray {
  const a: RecordArray = [
    STATE_CODE.get(r.state)!,
    r.version,
    r.loop,
    r.retry,
    r.skip ? 1 : 0,
    r.error_ignored ? 1 : 0,
    r.started_at,
    r.finished_at,
    r.state_refresh_at,
    r.auto_retry_times,
  ];
  if (r.ex_data !== undefined) a.push(r.ex_data);
  return a;
}

const at = <T>(a: unknown, i: number, what: string, check: (v: unknown) => boolean): T => {
  const v = (a as unknown[])[i];
  if (!check(v)) throw new TypeError(`${what}: field ${i} is malformed`);
  return v as T;
};
const isInt = (v: unknown) => Number.isSafeInteger(v);
const isString = (v: unknown) => typeof v === 'string';

const isTimeValue = (v: unknown): boolean => v === null || Number.isFinite(v);

/**
 * The frozen record, its fields in the order every record has (one hidden class). On the
 * recovery path for every change, so checked with plain comparisons rather than per-field calls.
 */
export function decodeRecord(a: unknown): NodeRecord {
  if (!Array.isArray(a) || (a.length !== 10 && a.length !== 11)) throw new TypeError('record: not a record array');
  const state = STATES[a[0] as number];
  const version = a[1] as string;
  const loop = a[2] as number;
  const retry = a[3] as number;
  const startedAt = a[6] as number | null;
  const finishedAt = a[7] as number | null;
  const refreshAt = a[8] as number;
  const autoRetryTimes = a[9] as number;
  if (
    !Number.isSafeInteger(autoRetryTimes) ||
    autoRetryTimes < 0 ||
    state === undefined ||
    typeof version !== 'string' ||
    !Number.isSafeInteger(loop) ||
    !Number.isSafeInteger(retry) ||
    (a[4] !== 0 && a[4] !== 1) ||
    (a[5] !== 0 && a[5] !== 1) ||
    !isTimeValue(startedAt) ||
    !isTimeValue(finishedAt) ||
    typeof refreshAt !== 'number'
  ) {
    throw new TypeError('record: a field is malformed');
  }
  return Object.freeze({
    state,
    version,
    loop,
    retry,
    auto_retry_times: autoRetryTimes,
    skip: a[4] === 1,
    error_ignored: a[5] === 1,
    started_at: startedAt,
    finished_at: finishedAt,
    state_refresh_at: refreshAt,
    ex_data: a.length === 11 ? freeze(a[10] as Json, true) : undefined,
  });
}

export const isActiveRecord = (r: NodeRecord): boolean => ACTIVE.has(r.state);

// ---------------------------------------------------------------------------------------------
// Definitions: flat preorder arrays, rebuilt through the one validating compiler

/** A node's policies as its definition spells them (auto_retry, timeout), so the compiler reads them again. */
type PolicyFields = Readonly<Record<string, unknown>>;
type DefinitionArrays = [
  ids: string[],
  names: string[],
  kinds: number[],
  parent: number[],
  ignorable: number[],
  policies: [number, PolicyFields][],
];
const DEFINITION_ARRAYS = 6;

export const encodeDefinition = (d: PipelineDefinition): DefinitionArrays => definitionSlice(d, 0, d.size);

function definitionSlice(d: PipelineDefinition, lo: number, hi: number): DefinitionArrays {
  const ignorable: number[] = [];
  for (let i = lo; i < hi; i++) if (d.traits[i] & TRAIT_ERROR_IGNORABLE) ignorable.push(i);
  const policies: [number, PolicyFields][] = [];
  for (const [i, p] of d.policies) {
    if (i < lo || i >= hi) continue;
    const fields: Record<string, unknown> = {};
    if (p.autoRetry !== undefined) fields.auto_retry = { max_times: p.autoRetry.max_times, interval_seconds: p.autoRetry.interval_seconds };
    if (p.timeout !== undefined) fields.timeout = { seconds: p.timeout.seconds, action: p.timeout.action };
    policies.push([i, fields]);
  }
  policies.sort((x, y) => x[0] - y[0]);
  return [
    d.ids.slice(lo, hi),
    d.names.slice(lo, hi),
    Array.from(d.kinds.subarray(lo, hi)),
    Array.from(d.parent.subarray(lo, hi)),
    ignorable,
    policies,
  ];
}

/** A definition once accepted is accepted again, whatever limits the engine has now. */
const REPLAY_LIMITS = { maxNodes: Number.MAX_SAFE_INTEGER, maxDepth: Number.MAX_SAFE_INTEGER, maxNameLength: Number.MAX_SAFE_INTEGER };

export function decodeDefinition(taskId: string, a: unknown): PipelineDefinition {
  if (!Array.isArray(a) || a.length !== DEFINITION_ARRAYS || !a.every(Array.isArray)) throw new TypeError('definition: not six arrays');
  const [ids, names, kinds, parent, ignorable, policies] = a as DefinitionArrays;
  const size = ids.length;
  if (names.length !== size || kinds.length !== size || parent.length !== size || size === 0)
    throw new TypeError('definition: arrays differ in length');
  const flags = new Uint8Array(size);
  for (const i of ignorable) flags[i] = 1;
  interface Mutable {
    id: string;
    name: string;
    kind: NodeKind;
    error_ignorable: boolean;
    children: Mutable[];
    [policy: string]: unknown;
  }
  const nodes: Mutable[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const kind = NODE_KINDS[kinds[i]];
    const p = parent[i];
    if (kind === undefined || !Number.isSafeInteger(p) || p >= i || p < 0 !== (i === 0)) throw new TypeError('definition: not in preorder');
    nodes[i] = { id: ids[i], name: names[i], kind, error_ignorable: flags[i] === 1, children: [] };
    if (p >= 0) nodes[p].children.push(nodes[i]);
  }
  for (const entry of policies) {
    if (
      !Array.isArray(entry) ||
      !Number.isSafeInteger(entry[0]) ||
      entry[0] < 0 ||
      entry[0] >= size ||
      typeof entry[1] !== 'object' ||
      entry[1] === null
    ) {
      throw new TypeError('definition: a policy is malformed');
    }
    const { auto_retry: autoRetry, timeout } = entry[1] as Record<string, unknown>;
    if (autoRetry !== undefined) nodes[entry[0]].auto_retry = autoRetry;
    if (timeout !== undefined) nodes[entry[0]].timeout = timeout;
  }
  return compileDefinition(taskId, nodes[0] as NodeDefinition, REPLAY_LIMITS);
}

// ---------------------------------------------------------------------------------------------
// Entries: [kind code, ...fields]

const KIND = { project: 0, task: 1, nodes: 2, deleted: 3, archived: 4 } as const;

function encodeEntry(e: JournalEntry): unknown[] {
  switch (e.kind) {
    case 'project': {
      const p = e.project;
      return [KIND.project, p.id, p.bk_biz_id, p.name, p.time_zone];
    }
    case 'task': {
      const t = e.task;
      return [KIND.task, e.created.seq, t.id, t.project_id, t.name, t.created_at, encodeDefinition(e.definition)];
    }
    case 'nodes': {
      const first = e.changes[0];
      const nodes = e.changes.map((c) => [c.nodeId, STATE_CODE.get(c.from)!, encodeRecord(c.record)]);
      // data (a callback's) is any JSON value, null included: boxed so that "none" stays apart
      return [
        KIND.nodes,
        first.seq,
        first.taskId,
        OP_CODE.get(first.operation)!,
        first.at,
        e.ended ? 1 : 0,
        'data' in first ? [first.data] : 0,
        nodes,
      ];
    }
    case 'deleted': {
      const d = e.deleted;
      return [KIND.deleted, d.seq, d.taskId, d.projectId, d.at];
    }
    case 'archived':
      return [KIND.archived, e.taskId, e.projectId, e.at, e.expiresAt];
  }
}

function decodeEntry(a: unknown): JournalEntry {
  if (!Array.isArray(a)) throw new TypeError('entry: not an array');
  const w = 'entry';
  switch (a[0]) {
    case KIND.project: {
      const bizId = a[2] === null ? null : at<string>(a, 2, w, isString);
      return {
        kind: 'project',
        project: Object.freeze({
          id: at<string>(a, 1, w, isString),
          bk_biz_id: bizId,
          name: at<string>(a, 3, w, isString),
          time_zone: at<string>(a, 4, w, isString),
        }),
      };
    }
    case KIND.task: {
      const seq = at<number>(a, 1, w, isInt);
      const id = at<string>(a, 2, w, isString);
      const projectId = at<string>(a, 3, w, isString);
      const createdAt = at<number>(a, 5, w, Number.isFinite);
      return {
        kind: 'task',
        created: Object.freeze({ seq, taskId: id, projectId, at: createdAt }),
        task: Object.freeze({ id, project_id: projectId, name: at<string>(a, 4, w, isString), created_at: createdAt }),
        definition: decodeDefinition(id, a[6]),
      };
    }
    case KIND.nodes: {
      const seq = at<number>(a, 1, w, isInt);
      const taskId = at<string>(a, 2, w, isString);
      const operation = JOURNALED_OPERATIONS[at<number>(a, 3, w, isInt)];
      const time = at<number>(a, 4, w, Number.isFinite);
      const box = a[6];
      const nodes = at<unknown[]>(a, 7, w, (v) => Array.isArray(v) && v.length > 0);
      if (operation === undefined) throw new TypeError('entry: unknown operation');
      const data = Array.isArray(box) ? freeze(box[0] as Json, true) : undefined;
      const changes: NodeChange[] = new Array(nodes.length);
      for (let k = 0; k < nodes.length; k++) {
        const n = nodes[k] as unknown[];
        const nodeId = n[0];
        const from = STATES[n[1] as number];
        if (typeof nodeId !== 'string' || from === undefined) throw new TypeError('entry: a change is malformed');
        const record = decodeRecord(n[2]);
        // Two literal shapes, as the store builds them.
        changes[k] = Object.freeze(
          data === undefined
            ? { seq: seq + k, taskId, nodeId, operation, from, to: record.state, at: time, record }
            : { seq: seq + k, taskId, nodeId, operation, from, to: record.state, at: time, record, data },
        );
      }
      return { kind: 'nodes', changes, ended: a[5] === 1 };
    }
    case KIND.deleted: {
      const deleted = {
        seq: at<number>(a, 1, w, isInt),
        taskId: at<string>(a, 2, w, isString),
        projectId: at<string>(a, 3, w, isString),
        at: at<number>(a, 4, w, Number.isFinite),
      };
      return { kind: 'deleted', deleted: Object.freeze(deleted) };
    }
    case KIND.archived:
      return {
        kind: 'archived',
        taskId: at<string>(a, 1, w, isString),
        projectId: at<string>(a, 2, w, isString),
        at: at<number>(a, 3, w, Number.isFinite),
        expiresAt: at<number>(a, 4, w, Number.isFinite),
      } satisfies ArchivedEntry;
    default:
      throw new TypeError(`entry: unknown kind ${JSON.stringify(a[0])}`);
  }
}

export const encodeEntries = (entries: readonly JournalEntry[]): Buffer => toJsonBytes(entries.map(encodeEntry));

export function decodeEntries(body: Uint8Array): JournalEntry[] {
  const parsed = fromJsonBytes(body);
  if (!Array.isArray(parsed)) throw new TypeError('batch: not an array');
  return parsed.map(decodeEntry);
}

// ---------------------------------------------------------------------------------------------
// Whole tasks (checkpoints, archive): a head, the definition in chunks, then records and
// histories in chunks, so that a 10^6-node task is written in slices and never held as one
// string, and reading one back never parses more than a chunk at a time.

export type TaskPart =
  | readonly ['task', id: string, projectId: string, name: string, createdAt: number, size: number]
  | readonly ['definition', id: string, start: number, arrays: DefinitionArrays]
  | readonly ['records', id: string, start: number, records: (RecordArray | 0)[]]
  | readonly ['histories', id: string, histories: [index: number, attempts: RecordArray[], dropped: number][]];

/** The parts of one task, `chunk` nodes per part. */
export function* taskParts(t: TaskView, chunk: number): Generator<TaskPart> {
  const { task, definition } = t;
  const size = definition.size;
  yield ['task', task.id, task.project_id, task.name, task.created_at, size];
  for (let lo = 0; lo < size; lo += chunk) yield ['definition', task.id, lo, definitionSlice(definition, lo, Math.min(size, lo + chunk))];
  for (let lo = 0; lo < size; lo += chunk) {
    const hi = Math.min(size, lo + chunk);
    const out: (RecordArray | 0)[] = [];
    let any = false;
    forEachInRange(t.records, lo, hi, (r) => {
      out.push(r === undefined ? 0 : encodeRecord(r));
      any ||= r !== undefined;
    });
    if (any) yield ['records', task.id, lo, out];
  }
  let histories: [number, RecordArray[], number][] = [];
  let held = 0;
  for (let lo = 0; lo < size; lo += chunk) {
    forEachInRange(t.histories, lo, Math.min(size, lo + chunk), (h, i) => {
      if (h === undefined) return;
      const attempts = historyAt(t, i).map(encodeRecord);
      // how many older attempts the cap dropped: a history put back answers the same counts
      histories.push([i, attempts, h.dropped]);
      held += attempts.length;
    });
    if (held >= chunk) {
      yield ['histories', task.id, histories];
      histories = [];
      held = 0;
    }
  }
  if (histories.length > 0) yield ['histories', task.id, histories];
}

/** The project as a checkpoint stores it. */
export const encodeProject = (p: Project): unknown[] => [p.id, p.bk_biz_id, p.name, p.time_zone];

export function decodeProject(a: unknown): Project {
  const w = 'project';
  const bizId = (a as unknown[])[1] === null ? null : at<string>(a, 1, w, isString);
  return Object.freeze({
    id: at<string>(a, 0, w, isString),
    bk_biz_id: bizId,
    name: at<string>(a, 2, w, isString),
    time_zone: at<string>(a, 3, w, isString),
  });
}

/** A task part read back: checked for shape, values decoded. */
export type DecodedTaskPart =
  | { readonly kind: 'task'; readonly task: Task; readonly size: number }
  | { readonly kind: 'definition'; readonly taskId: string; readonly start: number; readonly arrays: DefinitionArrays }
  | { readonly kind: 'records'; readonly taskId: string; readonly start: number; readonly records: readonly (NodeRecord | undefined)[] }
  | {
      readonly kind: 'histories';
      readonly taskId: string;
      readonly histories: readonly (readonly [number, readonly NodeRecord[], number])[];
    };

export function decodeTaskPart(a: unknown): DecodedTaskPart {
  const w = 'task part';
  if (!Array.isArray(a)) throw new TypeError(`${w}: not an array`);
  const id = at<string>(a, 1, w, isString);
  switch (a[0]) {
    case 'task': {
      const task: Task = Object.freeze({
        id,
        project_id: at<string>(a, 2, w, isString),
        name: at<string>(a, 3, w, isString),
        created_at: at<number>(a, 4, w, Number.isFinite),
      });
      return { kind: 'task', task, size: at<number>(a, 5, w, isInt) };
    }
    case 'definition': {
      const arrays = at<DefinitionArrays>(a, 3, w, (v) => Array.isArray(v) && v.length === DEFINITION_ARRAYS && v.every(Array.isArray));
      return { kind: 'definition', taskId: id, start: at<number>(a, 2, w, isInt), arrays };
    }
    case 'records':
      return {
        kind: 'records',
        taskId: id,
        start: at<number>(a, 2, w, isInt),
        records: at<unknown[]>(a, 3, w, Array.isArray).map((r) => (r === 0 ? undefined : decodeRecord(r))),
      };
    case 'histories':
      return {
        kind: 'histories',
        taskId: id,
        histories: at<unknown[]>(a, 2, w, Array.isArray).map(
          (h) =>
            [
              at<number>(h, 0, w, isInt),
              at<unknown[]>(h, 1, w, Array.isArray).map(decodeRecord),
              at<number>(h, 2, w, (v) => isInt(v) && (v as number) >= 0),
            ] as const,
        ),
      };
    default:
      throw new TypeError(`${w}: unknown kind ${JSON.stringify(a[0])}`);
  }
}

/**
 * Puts a task back together from its parts: the head, then definition chunks until the task has
 * all its nodes (then `onTask` registers it), then records and histories (`onFill`).
 */
export class TaskAssembler {
  private head: Task | undefined;
  private size = 0;
  private arrays: DefinitionArrays = [[], [], [], [], [], []];

  constructor(
    private readonly onTask: (task: Task, definition: PipelineDefinition) => void,
    private readonly onFill: (part: Extract<DecodedTaskPart, { kind: 'records' | 'histories' }>) => void,
  ) {}

  push(part: DecodedTaskPart): void {
    switch (part.kind) {
      case 'task':
        this.expectNone();
        if (part.size < 1) throw new TypeError(`task ${part.task.id} has no nodes`);
        this.head = part.task;
        this.size = part.size;
        this.arrays = [[], [], [], [], [], []];
        return;
      case 'definition': {
        const head = this.head;
        if (head === undefined || part.taskId !== head.id || part.start !== this.arrays[0].length) {
          throw new TypeError(`a definition chunk of task ${part.taskId} is out of place`);
        }
        for (let k = 0; k < DEFINITION_ARRAYS; k++) {
          const into = this.arrays[k] as unknown[];
          for (const v of part.arrays[k] as unknown[]) into.push(v);
        }
        if (this.arrays[0].length > this.size) throw new TypeError(`task ${head.id} has more nodes than it says`);
        if (this.arrays[0].length === this.size) {
          this.head = undefined;
          this.onTask(head, decodeDefinition(head.id, this.arrays));
        }
        return;
      }
      default:
        this.expectNone();
        this.onFill(part);
    }
  }

  /** The stream ended: no task may be left half-read. */
  end(): void {
    this.expectNone();
  }

  private expectNone(): void {
    if (this.head !== undefined) throw new TypeError(`the definition of task ${this.head.id} is incomplete`);
  }
}

/**
 * One archived task as one stored unit: the JSON list of its parts. Encoded a part at a time,
 * yielding to the event loop every few ms, so a 10^6-node task does not stall other work.
 */
export async function encodeTask(t: TaskView, chunk = 4_096, sliceMs = 5): Promise<Buffer> {
  const pieces: Buffer[] = [Buffer.from('[')];
  let since = performance.now();
  for (const part of taskParts(t, chunk)) {
    if (pieces.length > 1) pieces.push(Buffer.from(','));
    pieces.push(toJsonBytes(part));
    if (performance.now() - since > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
  pieces.push(Buffer.from(']'));
  return Buffer.concat(pieces);
}

export function decodeTask(body: Uint8Array): DecodedTaskPart[] {
  const parsed = fromJsonBytes(body);
  if (!Array.isArray(parsed) || parsed.length === 0) throw new TypeError('task: not a list of parts');
  return parsed.map(decodeTaskPart);
}
