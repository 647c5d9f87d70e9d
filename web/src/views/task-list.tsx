/**
 * The project's tasks (get_task_list): name, id, the root's state as get_task_status shows it,
 * progress of the leaves, elapsed time (ticking), failed and paused nodes; filtered by root
 * state and name, paged, refreshed every two seconds.
 */
import { useEffect, useState } from 'preact/hooks';
import { STATES } from '../../../src/lifecycle/states.js';
import type { TaskListItem } from '../../../src/query/overview-types.js';
import type { ApiClient } from '../api/client.js';
import { durationText, lookOf } from '../model/format.js';

const PAGE = 20;
const REFRESH_MS = 2_000;

export function TaskList({ client }: { readonly client: ApiClient }) {
  const [state, setState] = useState('');
  const [keyword, setKeyword] = useState('');
  const [offset, setOffset] = useState(0);
  const [answer, setAnswer] = useState<{ items: TaskListItem[]; count: number; at: number } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(Date.now());

  useEffect(() => {
    const stop = new AbortController();
    const fetchPage = async () => {
      try {
        const env = await client.get<TaskListItem[]>('get_task_list', { root_state: state || undefined, keyword: keyword || undefined, limit: PAGE, offset }, stop.signal);
        if (!env.result) {
          setError(env.message);
          return;
        }
        setError(undefined);
        setAnswer({ items: env.data!, count: env.count ?? env.data!.length, at: Date.now() });
      } catch (e) {
        if (!stop.signal.aborted) setError(String(e));
      }
    };
    void fetchPage();
    const refresh = setInterval(() => void fetchPage(), REFRESH_MS);
    const clock = setInterval(() => setTick(Date.now()), 1_000);
    return () => {
      stop.abort();
      clearInterval(refresh);
      clearInterval(clock);
    };
  }, [client, state, keyword, offset]);

  const count = answer?.count ?? 0;
  return (
    <section class="task-list">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>Root state
          <select value={state} onChange={(e) => { setState(e.currentTarget.value); setOffset(0); }} name="root_state">
            <option value="">any</option>
            {STATES.map((s) => <option key={s} value={s}>{lookOf(s).symbol} {s}</option>)}
          </select>
        </label>
        <label>Name contains
          <input type="search" value={keyword} name="keyword" onInput={(e) => { setKeyword(e.currentTarget.value); setOffset(0); }} />
        </label>
        <span class="muted" data-count={count}>{count} task{count === 1 ? '' : 's'}</span>
      </form>
      {error && <p role="alert" class="refusal">{error}</p>}
      <table class="tasks">
        <thead><tr><th>State</th><th>Name</th><th>ID</th><th>Progress</th><th>Elapsed</th><th>Failed</th><th>Paused</th></tr></thead>
        <tbody>
          {(answer?.items ?? []).map((t) => {
            const look = lookOf(t.state);
            const running = t.start_time !== null && t.finish_time === null;
            const elapsed = running ? t.elapsed_time + Math.max(0, tick - answer!.at) / 1000 : t.elapsed_time;
            const pct = t.progress.total === 0 ? 0 : (100 * t.progress.finished) / t.progress.total;
            return (
              <tr key={t.id} data-task={t.id} data-state={t.state}>
                <td class={look.colour}><span role="img" aria-label={t.state}>{look.symbol}</span> {t.state}</td>
                <td><a href={`#/task/${t.id}`}>{t.name}</a></td>
                <td class="mono">{t.id}</td>
                <td><span class="progress" title={`${t.progress.finished} of ${t.progress.total} leaves finished`}>
                  <span class="bar-outer"><span class="bar-inner" style={{ width: `${pct}%` }} /></span>{t.progress.finished}/{t.progress.total}
                </span></td>
                <td>{t.start_time === null ? '' : durationText(0, Math.round(elapsed * 1000), 0)}</td>
                <td class={t.counts.FAILED > 0 ? 'ansi-31' : 'muted'}>{t.counts.FAILED}</td>
                <td class={t.counts.SUSPENDED > 0 ? 'ansi-33' : 'muted'}>{t.counts.SUSPENDED}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {answer && answer.items.length === 0 && <p class="muted">No task matches.</p>}
      <div class="pager">
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>‹ newer</button>
        <span>{count === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, count)} of {count}</span>
        <button disabled={offset + PAGE >= count} onClick={() => setOffset(offset + PAGE)}>older ›</button>
      </div>
    </section>
  );
}
