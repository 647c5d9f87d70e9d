/**
 * One task, live. The watch stream opens first; each `status` event it sends (at the start, and
 * after a `reset`) loads the task's nodes page by page (get_task_nodes) while the stream's
 * changes wait; then the waiting changes are applied (those a page already holds are skipped by
 * cursor) and every later change is applied as it comes, in batches of one animation frame, so
 * a burst of a thousand changes is one render.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TaskNodesPage } from '../../../src/query/overview-types.js';
import type { ApiClient, Envelope } from '../api/client.js';
import { openWatch, type WatchState } from '../api/watch.js';
import { durationText, lookOf } from '../model/format.js';
import { TaskModel, countsOf, visibleRows, type ChangeEvent } from '../model/task-model.js';
import { NodeDetailPanel } from './node-detail.js';
import { Timeline } from './timeline.js';
import { Tree } from './tree.js';

const PAGE = 5_000;

export interface TaskViewProps {
  readonly client: ApiClient;
  readonly taskId: string;
  readonly tab: 'tree' | 'timeline';
}

const LIVE_TEXT: Readonly<Record<WatchState, string>> = {
  connecting: 'connecting…', open: 'live', waiting: 'reconnecting…', refused: 'refused', closed: 'closed',
};

export function TaskView(p: TaskViewProps) {
  const [model, setModel] = useState<TaskModel | undefined>(undefined);
  const [revision, setRevision] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const [live, setLive] = useState<WatchState>('connecting');
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  const [selected, setSelected] = useState(0);
  const [tick, setTick] = useState(Date.now());
  const modelRef = useRef<TaskModel | undefined>(undefined);

  useEffect(() => {
    let loading: ChangeEvent[] | undefined = [];
    let queue: ChangeEvent[] = [];
    let frame = 0;
    let generation = 0;
    const stop = new AbortController();

    const flush = () => {
      frame = 0;
      const m = modelRef.current;
      if (!m) return;
      let changed = false;
      for (const c of queue) changed = m.apply(c) || changed;
      queue = [];
      if (changed) {
        m.derive();
        setRevision((r) => r + 1);
      }
    };

    const load = async () => {
      const mine = ++generation;
      loading = loading ?? [];
      try {
        let m: TaskModel | undefined;
        for (let offset: number | null = 0; offset !== null;) {
          const env: Envelope<TaskNodesPage> = await p.client.get<TaskNodesPage>('get_task_nodes', { task_id: p.taskId, offset, limit: PAGE }, stop.signal);
          if (!env.result) throw new Error(env.message);
          const page: TaskNodesPage = env.data!;
          m = m ?? new TaskModel(page.task_id, page.name, page.total);
          m.addPage(page, Date.now());
          offset = page.next_offset;
        }
        if (mine !== generation || !m) return;
        for (const c of loading) m.apply(c);
        loading = undefined;
        m.derive();
        modelRef.current = m;
        setModel(m);
        setRevision((r) => r + 1);
        setError(undefined);
      } catch (e) {
        if (!stop.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      }
    };

    const watch = openWatch({
      client: p.client,
      taskId: p.taskId,
      onState: (s, detail) => {
        setLive(s);
        if (s === 'refused') setError(detail);
      },
      onEvent: (e) => {
        if (e.event === 'status') void load();
        else if (e.event === 'reset') setNotice('The stream could not replay every missed change: the task was read again.');
        else if (e.event === 'change') {
          const c = JSON.parse(e.data) as ChangeEvent;
          if (loading) loading.push(c);
          else {
            queue.push(c);
            if (frame === 0) frame = requestAnimationFrame(flush);
          }
        }
      },
    });
    const clock = setInterval(() => setTick(Date.now()), 1_000);
    return () => {
      stop.abort();
      watch.close();
      clearInterval(clock);
      cancelAnimationFrame(frame);
      modelRef.current = undefined;
    };
  }, [p.client, p.taskId]);

  const rows = useMemo(() => (model ? visibleRows(model, collapsed) : new Int32Array(0)), [model, revision, collapsed]);
  const nodeRows = useMemo(() => rows.filter((r) => (r & 1) === 0), [rows]);
  const totals = useMemo(() => (model ? countsOf(model, 0) : undefined), [model, revision]);

  if (error !== undefined && model === undefined) return <p role="alert" class="refusal">{error}</p>;
  if (model === undefined || totals === undefined) return <p class="loading">Loading task {p.taskId}…</p>;

  const root = model.nodes[0];
  const now = model.now(tick);
  const look = lookOf(root.shown);
  const toggle = (i: number) => {
    const next = new Set(collapsed);
    if (!next.delete(i)) next.add(i);
    setCollapsed(next);
  };
  const sel = Math.min(selected, model.nodes.length - 1);
  const running = root.state === 'RUNNING' || root.state === 'SUSPENDED' || root.state === 'READY';
  return (
    <section class="task-view">
      <header class="task-head">
        <h1><span class={look.colour} role="img" aria-label={root.shown}>{look.symbol}</span> {model.name} <span class="muted mono">#{model.taskId}</span></h1>
        <span class={`badge ${look.colour}`} data-root-state={root.shown}>{root.shown}</span>
        <span class="progress" title={`${totals.finished} of ${totals.leaves} leaves finished`}>
          <span class="bar-outer"><span class="bar-inner" style={{ width: `${totals.leaves === 0 ? 0 : (100 * totals.finished) / totals.leaves}%` }} /></span>
          {totals.finished}/{totals.leaves}
        </span>
        <span>{durationText(root.startedAt, root.finishedAt, now)}</span>
        <span class="ansi-31">✖ {totals.counts.FAILED} failed</span>
        <span class="ansi-33">‖ {totals.counts.SUSPENDED} paused</span>
        <span class={`live live-${live}`} data-live={live}>{LIVE_TEXT[live]}</span>
      </header>
      {notice && <p class="notice" role="status">{notice}</p>}
      {error && <p class="refusal" role="alert">{error}</p>}
      <nav class="tabs">
        <a href={`#/task/${model.taskId}`} aria-current={p.tab === 'tree' ? 'page' : undefined}>Tree</a>
        <a href={`#/task/${model.taskId}/timeline`} aria-current={p.tab === 'timeline' ? 'page' : undefined}>Timeline</a>
        <a href="#/">All tasks</a>
      </nav>
      <div class="task-body">
        <div class="task-main">
          {p.tab === 'tree'
            ? <Tree model={model} rows={rows} collapsed={collapsed} selected={sel} now={now} onToggle={toggle} onSelect={setSelected} />
            : <Timeline model={model} rows={nodeRows} selected={sel} now={now} running={running} onSelect={setSelected} />}
        </div>
        <NodeDetailPanel client={p.client} model={model} index={sel} now={now} version={model.nodes[sel].version} seen={model.nodes[sel].seen} />
      </div>
    </section>
  );
}
