/**
 * The routes, as a table. Each API is reachable in both spellings bk-sops clients use:
 *
 * - ESB: `/api/c/compapi/v2/sops/<name>/`, parameters in the query string (GET) or a JSON body
 *   (POST). Queries accept both methods; commands only POST, so that a link, a prefetcher or a
 *   crawler can never change a task.
 * - API gateway: `/<name>/{param}/{param}/`, path parameters in the order of bk-sops'
 *   `gcloud/apigw/urls.py` (note operate_node: bk_biz_id first), and the method it uses.
 *
 * The trailing slash is optional. Path parameters override query and body fields of the same name.
 * HEAD is answered wherever GET is, with the same headers and no body.
 */
import type { RequestContext, Envelope } from '../types.js';
import type { Params } from './body.js';
import { createTask, deleteTask, nodeEvent } from './orchestrator.js';
import type { EnginePort } from './port.js';
import type { Slices } from '../../model/index.js';
import { methodNotAllowed, type HttpRefusal } from './refusal.js';

export type Method = 'GET' | 'POST';

export const ESB_PREFIX = ['api', 'c', 'compapi', 'v2', 'sops'] as const;

export type ApiRun = (engine: EnginePort, params: Params, ctx: RequestContext) => Envelope<unknown> | Promise<Envelope<unknown>>;
export type ReadRun = (engine: EnginePort, params: Params, ctx: RequestContext) => Slices<Envelope<unknown>>;

/**
 * What a route does once matched: answer an API call, answer a read whose answer can be large
 * (admitted through the queue and built and written in slices), open a watch stream, or serve a
 * probe.
 */
export type RouteAction =
  | { readonly kind: 'api'; readonly run: ApiRun }
  /**
   * `stored`: the same query through the engine's one-go method, asked when the sliced answer is
   * "not found": an engine with storage behind it (archived tasks) answers there what memory no
   * longer holds; an in-memory engine answers "not found" again, cheaply.
   */
  | { readonly kind: 'read'; readonly run: ReadRun; readonly stored: ApiRun }
  | { readonly kind: 'watch' }
  | { readonly kind: 'health' }
  | { readonly kind: 'metrics' };

export interface Route {
  /** the API name; also the `api` label of the metrics */
  readonly name: string;
  readonly action: RouteAction;
  /** ESB spelling: allowed methods; absent when the route has no ESB spelling */
  readonly esb?: readonly Method[];
  /** gateway spelling: method and path parameters in order */
  readonly gateway?: { readonly method: Method; readonly params: readonly string[] };
  /** a fixed path instead (probes) */
  readonly fixed?: { readonly path: string; readonly method: Method };
  /** fields that are lists, for query strings (`task_id_list=1,2`) */
  readonly lists?: ReadonlySet<string>;
  /** probes answer without credentials */
  readonly auth: boolean;
}

const QUERY: readonly Method[] = ['GET', 'POST'];
const COMMAND: readonly Method[] = ['POST'];
const TASK_THEN_BIZ = ['task_id', 'bk_biz_id'] as const;
const NONE: ReadonlySet<string> = new Set();

export const ROUTES: readonly Route[] = [
  {
    name: 'get_task_status',
    auth: true,
    esb: QUERY,
    gateway: { method: 'GET', params: TASK_THEN_BIZ },
    action: { kind: 'read', run: (e, p, c) => e.getTaskStatusSliced(p, c), stored: (e, p, c) => e.getTaskStatus(p, c) },
  },
  {
    name: 'get_tasks_status',
    auth: true,
    esb: QUERY,
    gateway: { method: 'POST', params: ['bk_biz_id'] },
    lists: new Set(['task_id_list']),
    action: { kind: 'read', run: (e, p, c) => e.getTasksStatusSliced(p, c), stored: (e, p, c) => e.getTasksStatus(p, c) },
  },
  {
    name: 'get_task_node_detail',
    auth: true,
    esb: QUERY,
    gateway: { method: 'GET', params: TASK_THEN_BIZ },
    action: { kind: 'read', run: (e, p, c) => e.getTaskNodeDetailSliced(p, c), stored: (e, p, c) => e.getTaskNodeDetail(p, c) },
  },
  {
    name: 'operate_task',
    auth: true,
    esb: COMMAND,
    gateway: { method: 'POST', params: TASK_THEN_BIZ },
    action: { kind: 'api', run: (e, p, c) => e.operateTask(p, c) },
  },
  {
    name: 'operate_node',
    auth: true,
    esb: COMMAND,
    gateway: { method: 'POST', params: ['bk_biz_id', 'task_id'] },
    action: { kind: 'api', run: (e, p, c) => e.operateNode(p, c) },
  },
  // bk-sops' create_task instantiates a template (path: template_id, project); pipestate registers
  // a definition the orchestrator sends, under an id it assigns: the path names the project only.
  {
    name: 'create_task',
    auth: true,
    esb: COMMAND,
    gateway: { method: 'POST', params: ['bk_biz_id'] },
    action: { kind: 'api', run: createTask },
  },
  {
    name: 'delete_task',
    auth: true,
    esb: COMMAND,
    gateway: { method: 'POST', params: TASK_THEN_BIZ },
    action: { kind: 'api', run: deleteTask },
  },
  {
    name: 'node_event',
    auth: true,
    esb: COMMAND,
    gateway: { method: 'POST', params: TASK_THEN_BIZ },
    action: { kind: 'api', run: nodeEvent },
  },
  {
    name: 'get_task_summary',
    auth: true,
    esb: QUERY,
    gateway: { method: 'GET', params: TASK_THEN_BIZ },
    action: { kind: 'api', run: (e, p, c) => e.getTaskSummary(p, c) },
  },
  {
    name: 'get_task_list',
    auth: true,
    esb: QUERY,
    gateway: { method: 'GET', params: ['bk_biz_id'] },
    lists: new Set(['root_state']),
    action: { kind: 'api', run: (e, p, c) => e.getTaskList(p, c) },
  },
  {
    name: 'get_task_nodes',
    auth: true,
    esb: QUERY,
    gateway: { method: 'GET', params: TASK_THEN_BIZ },
    action: { kind: 'api', run: (e, p, c) => e.getTaskNodes(p, c) },
  },
  { name: 'watch_task_status', auth: true, esb: ['GET'], gateway: { method: 'GET', params: TASK_THEN_BIZ }, action: { kind: 'watch' } },
  { name: 'healthz', auth: false, fixed: { path: 'healthz', method: 'GET' }, action: { kind: 'health' } },
  { name: 'metrics', auth: false, fixed: { path: 'metrics', method: 'GET' }, action: { kind: 'metrics' } },
];

export interface Match {
  readonly route: Route;
  /** path parameters, by name */
  readonly pathParams: ReadonlyMap<string, string>;
  readonly lists: ReadonlySet<string>;
}

const PATH_PARAM = /^[0-9]{1,32}$/;

/** Finds routes by their first path segment (gateway and probes) or ESB name. */
export class RouteTable {
  private readonly byEsbName = new Map<string, Route>();
  private readonly byFirstSegment = new Map<string, Route>();

  constructor(routes: readonly Route[] = ROUTES) {
    for (const r of routes) {
      if (r.esb) this.byEsbName.set(r.name, r);
      if (r.gateway) this.byFirstSegment.set(r.name, r);
      if (r.fixed) this.byFirstSegment.set(r.fixed.path, r);
    }
  }

  /**
   * The route for a method and path: a Match, undefined when no route has that path (404), or an
   * HttpRefusal when the path exists but not for that method (405).
   */
  match(method: string, pathname: string): Match | HttpRefusal | undefined {
    const segments = splitPath(pathname);
    if (!segments) return undefined;
    // HEAD is GET without the body (node:http leaves the body out).
    const as = method === 'HEAD' ? 'GET' : method;
    const esb = this.matchEsb(segments);
    if (esb)
      return esb.esb!.includes(as as Method)
        ? { route: esb, pathParams: new Map(), lists: esb.lists ?? NONE }
        : methodNotAllowed(method, allowed(esb.esb!));
    const route = this.byFirstSegment.get(segments[0]);
    if (!route) return undefined;
    if (route.fixed) {
      if (segments.length !== 1) return undefined;
      return route.fixed.method === as
        ? { route, pathParams: new Map(), lists: NONE }
        : methodNotAllowed(method, allowed([route.fixed.method]));
    }
    const gw = route.gateway!;
    const values = segments.slice(1);
    if (values.length !== gw.params.length || !values.every((v) => PATH_PARAM.test(v))) return undefined;
    if (gw.method !== as) return methodNotAllowed(method, allowed([gw.method]));
    return { route, pathParams: new Map(gw.params.map((name, i) => [name, values[i]])), lists: route.lists ?? NONE };
  }

  private matchEsb(segments: readonly string[]): Route | undefined {
    if (segments.length !== ESB_PREFIX.length + 1) return undefined;
    for (let i = 0; i < ESB_PREFIX.length; i++) if (segments[i] !== ESB_PREFIX[i]) return undefined;
    return this.byEsbName.get(segments[ESB_PREFIX.length]);
  }
}

/** The methods to list in Allow: HEAD wherever GET is. */
const allowed = (methods: readonly Method[]): string[] => methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));

/** "/a/b/c/" or "/a/b/c" → ["a","b","c"]; anything with empty segments (e.g. "//") matches nothing. */
function splitPath(pathname: string): string[] | undefined {
  if (!pathname.startsWith('/')) return undefined;
  const trimmed = pathname.endsWith('/') ? pathname.slice(1, -1) : pathname.slice(1);
  if (trimmed === '') return undefined;
  const segments = trimmed.split('/');
  return segments.every((s) => s !== '') ? segments : undefined;
}
