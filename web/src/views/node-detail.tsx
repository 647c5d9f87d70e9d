/**
 * The selected node: its record, its error data, its attempts (get_task_node_detail's
 * histories, a page at a time), the roll-up of its subtree (get_task_summary), and the
 * operations the lifecycle allows on it now, each confirmed before it is sent. A refusal is
 * shown exactly as the service wrote it.
 */
import { useEffect, useState } from 'preact/hooks';
import { offeredOperations, type OfferedOperation } from '../../../src/lifecycle/offer-key.js';
import type { TaskSummary } from '../../../src/query/overview-types.js';
import type { HistoryEntry, NodeDetail } from '../../../src/query/types.js';
import type { ApiClient, Envelope } from '../api/client.js';
import { durationText, jsonText, lookOf, timeText } from '../model/format.js';
import { OFFERS } from '../model/offers.js';
import { ancestorsOf, type TaskModel } from '../model/task-model.js';

const HISTORY_PAGE = 10;

const LABELS: Readonly<Record<OfferedOperation, string>> = {
  retry: 'Retry', skip: 'Skip', forced_fail: 'Force fail', pause: 'Pause', resume: 'Resume', callback: 'Callback', revoke: 'Revoke task',
};

export interface NodeDetailProps {
  readonly client: ApiClient;
  readonly model: TaskModel;
  readonly index: number;
  readonly now: number;
  /** changes when the node changes, so the detail is asked again */
  readonly version: string;
  readonly seen: number;
}

interface Pending {
  readonly op: OfferedOperation;
  readonly version: string;
}

export function NodeDetailPanel(p: NodeDetailProps) {
  const n = p.model.nodes[p.index];
  const [histories, setHistories] = useState<{ entries: HistoryEntry[]; total: number; dropped: number } | undefined>(undefined);
  const [summary, setSummary] = useState<TaskSummary | undefined>(undefined);
  const [page, setPage] = useState(0);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [input, setInput] = useState('');
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | undefined>(undefined);

  useEffect(() => {
    setOutcome(undefined);
    setPage(0);
  }, [p.index]);

  useEffect(() => {
    const stop = new AbortController();
    // a page of ended attempts, counted from the newest (the service pages them)
    void p.client.get<NodeDetail>('get_task_node_detail', {
      task_id: p.model.taskId, node_id: n.id, histories_offset: page * HISTORY_PAGE, histories_limit: HISTORY_PAGE,
    }, stop.signal)
      .then((env) => setHistories(env.result
        ? { entries: env.data!.histories, total: env.data!.histories_total, dropped: env.data!.histories_dropped }
        : { entries: [], total: 0, dropped: 0 }))
      .catch(() => undefined);
    if (n.container) {
      void p.client.get<TaskSummary>('get_task_summary', { task_id: p.model.taskId, subprocess_id: n.id }, stop.signal)
        .then((env) => setSummary(env.result ? env.data! : undefined))
        .catch(() => undefined);
    } else setSummary(undefined);
    return () => stop.abort();
  }, [p.index, p.seen, page]);

  const offers = offeredOperations(OFFERS, { container: n.container, root: p.index === 0, errorIgnorable: n.errorIgnorable }, ancestorsOf(p.model, p.index), n.state);

  const send = async (op: OfferedOperation, version: string): Promise<Envelope<unknown>> => {
    const task = p.model.taskId;
    if (p.index === 0 && (op === 'pause' || op === 'resume' || op === 'revoke')) return p.client.post('operate_task', { task_id: task, action: op });
    const extra = op === 'forced_fail' && input.trim() !== '' ? { ex_data: input } : op === 'callback' ? { data: input.trim() === '' ? null : JSON.parse(input) as unknown } : {};
    return p.client.post('operate_node', { task_id: task, node_id: n.id, action: op, version, ...extra });
  };

  const confirm = async () => {
    const asked = pending!;
    setPending(undefined);
    try {
      const env = await send(asked.op, asked.version);
      setOutcome(env.result ? { ok: true, message: `${LABELS[asked.op]}: accepted` } : { ok: false, message: env.message });
    } catch (e) {
      setOutcome({ ok: false, message: e instanceof SyntaxError ? `data is not JSON: ${e.message}` : String(e) });
    }
  };

  const look = lookOf(n.shown);
  const entries = histories?.entries ?? [];
  const total = histories?.total ?? 0;
  const dropped = histories?.dropped ?? 0;
  const pages = Math.max(1, Math.ceil(total / HISTORY_PAGE));
  /** attempt number of the k-th entry of the page (entries are oldest first; the page counts from the newest) */
  const numberOf = (k: number) => dropped + total - (page * HISTORY_PAGE + entries.length - 1 - k);
  return (
    <aside class="detail" aria-label="node detail">
      <h2><span class={look.colour} role="img" aria-label={n.shown}>{look.symbol}</span> {p.index === 0 ? p.model.name : n.name || n.id}</h2>
      <dl class="fields">
        <dt>id</dt><dd class="mono">{n.id}</dd>
        <dt>kind</dt><dd>{n.kind}{n.errorIgnorable ? ' (error ignorable)' : ''}</dd>
        <dt>state</dt><dd class={look.colour}>{n.shown}{n.shown !== n.state ? ` (stored ${n.state})` : ''}</dd>
        <dt>version</dt><dd class="mono">{n.version || '—'}</dd>
        <dt>retry / loop</dt><dd>{n.retry} / {n.loop}{n.skip ? ' · skipped' : ''}{n.errorIgnored ? ' · error ignored' : ''}</dd>
        <dt>started</dt><dd>{timeText(n.startedAt) || '—'}</dd>
        <dt>finished</dt><dd>{timeText(n.finishedAt) || '—'}</dd>
        <dt>duration</dt><dd>{durationText(n.startedAt, n.finishedAt, p.now) || '—'}</dd>
      </dl>
      {n.exData !== null && <><h3>Error data</h3><pre class="exdata ansi-31">{jsonText(n.exData)}</pre></>}
      {summary && (
        <p class="summary">{summary.progress.finished}/{summary.progress.total} leaves finished · {summary.counts.FAILED} failed · {summary.counts.SUSPENDED} paused · {summary.counts.RUNNING} running</p>
      )}
      <div class="ops" role="group" aria-label="operations">
        {offers.length === 0 && <span class="muted">No operation applies in this state.</span>}
        {offers.map((op) => <button key={op} data-op={op} onClick={() => { setInput(''); setOutcome(undefined); setPending({ op, version: n.version }); }}>{LABELS[op]}</button>)}
      </div>
      {outcome && <p role={outcome.ok ? 'status' : 'alert'} class={outcome.ok ? 'accepted' : 'refusal'}>{outcome.message}</p>}
      {pending && (
        <div class="dialog-backdrop">
          <div class="dialog" role="dialog" aria-modal="true" aria-label={`confirm ${pending.op}`}>
            <p>{LABELS[pending.op]} {p.index === 0 && pending.op === 'revoke' ? `task ${p.model.taskId}` : `node ${n.id}`} ({n.name || n.id})?</p>
            {pending.op === 'forced_fail' && <label>Error data (optional)<textarea value={input} onInput={(e) => setInput(e.currentTarget.value)} /></label>}
            {pending.op === 'callback' && <label>Data (JSON)<textarea value={input} onInput={(e) => setInput(e.currentTarget.value)} /></label>}
            <div class="dialog-buttons">
              <button onClick={() => setPending(undefined)}>Cancel</button>
              <button class="primary" data-confirm={pending.op} onClick={() => void confirm()}>{LABELS[pending.op]}</button>
            </div>
          </div>
        </div>
      )}
      <h3>Attempts ({total + dropped} ended{n.startedAt !== null ? ', 1 current' : ''}{dropped > 0 ? `; the oldest ${dropped} not kept` : ''})</h3>
      {total === 0 ? <p class="muted">No ended attempt.</p> : (
        <>
          <table class="histories">
            <thead><tr><th>#</th><th>state</th><th>retry</th><th>loop</th><th>started</th><th>finished</th><th>elapsed</th><th>error</th></tr></thead>
            <tbody>{entries.map((h, k) => (
              <tr key={k}>
                <td>{numberOf(k)}</td><td class={lookOf(h.state).colour}>{lookOf(h.state).symbol} {h.state}</td><td>{h.retry}</td><td>{h.loop}</td>
                <td>{h.start_time}</td><td>{h.finish_time}</td><td>{h.elapsed_time}s</td><td class="mono">{h.ex_data === null ? '' : jsonText(h.ex_data)}</td>
              </tr>
            ))}</tbody>
          </table>
          {pages > 1 && (
            <div class="pager">
              <button disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>‹ older</button>
              <span>{page + 1} / {pages}</span>
              <button disabled={page === 0} onClick={() => setPage(page - 1)}>newer ›</button>
            </div>
          )}
        </>
      )}
    </aside>
  );
}
