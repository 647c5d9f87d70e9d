/**
 * The timeline: a Gantt chart with one row per node (folded like the tree) and one bar per
 * attempt, so retries and loops are separate bars on their node's row; each bar carries its
 * state's symbol and a tooltip, not colour alone. Zoom in and out by powers of two from the
 * fitted scale; while the task runs, a line marks now. Rows are virtualised like the tree's.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { TaskModel } from '../model/task-model.js';
import { barsOf, spanOf, ticks, zoomed } from '../model/timeline.js';
import { clockText, durationText, lookOf, timeText } from '../model/format.js';
import { VirtualList } from './virtual-list.js';

const ROW_HEIGHT = 26;
const AXIS_HEIGHT = 28;
const NAME_WIDTH = 260;

export interface TimelineProps {
  readonly model: TaskModel;
  /** node rows only (the tree's rows without error rows) */
  readonly rows: Int32Array;
  readonly selected: number;
  readonly now: number;
  readonly running: boolean;
  readonly onSelect: (i: number) => void;
}

export function Timeline(p: TimelineProps) {
  const [level, setLevel] = useState(0);
  const [viewWidth, setViewWidth] = useState(900);
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const measure = () => setViewWidth(el.clientWidth);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [box.current]);
  const span = spanOf(p.model, p.now);
  if (span === undefined) return <p class="empty">Nothing has run yet: the timeline starts with the first attempt.</p>;
  // "fit": the whole span in the view, beside the names, with a margin for the last label
  const fit = (span.end - span.start) / Math.max(200, viewWidth - NAME_WIDTH - 60);
  const msPerPx = zoomed(fit, level);
  const x = (t: number) => NAME_WIDTH + (t - span.start) / msPerPx;
  const width = Math.ceil(x(span.end)) + 40;
  const axisTicks = ticks(span.start, span.end, msPerPx);

  const header = (
    <div class="axis" style={{ height: `${AXIS_HEIGHT}px`, width: `${width}px` }} aria-hidden="true">
      {axisTicks.map((t) => <span key={t.at} class="tick" style={{ left: `${x(t.at)}px` }}>{clockText(t.at, t.step < 1000)}</span>)}
      {p.running && <span class="now-line" style={{ left: `${x(p.now)}px`, height: `${AXIS_HEIGHT + p.rows.length * ROW_HEIGHT}px` }} title={`now: ${timeText(p.now)}`} />}
    </div>
  );

  const row = (k: number) => {
    const i = p.rows[k] >> 1;
    const n = p.model.nodes[i];
    return (
      <div class={`gantt-row${p.selected === i ? ' selected' : ''}`} data-node={n.id} tabIndex={0} aria-selected={p.selected === i}
        onClick={() => p.onSelect(i)} onKeyDown={(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); p.onSelect(i); } }}>
        <span class="gantt-name" style={{ width: `${NAME_WIDTH}px`, paddingLeft: `${6 + n.depth * 12}px` }}>
          <span class={lookOf(n.shown).colour}>{lookOf(n.shown).symbol}</span> {i === 0 ? p.model.name : n.name || n.id}
        </span>
        {barsOf(n, p.now).map((b) => {
          const look = lookOf(b.state);
          const left = x(b.start);
          const w = Math.max(3, x(b.end) - left);
          const label = `${n.name || n.id}: attempt ${b.attempt}, ${b.state}${b.retry > 0 ? `, retry ${b.retry}` : ''}${b.loop > 1 ? `, loop ${b.loop}` : ''}, `
            + `${timeText(b.start)} – ${b.open ? 'running' : timeText(b.end)} (${durationText(b.start, b.open ? null : b.end, p.now)})`;
          return (
            <span key={b.attempt} class={`bar bar-${look.colour}${b.open ? ' open' : ''}`} data-attempt={b.attempt} data-state={b.state}
              style={{ left: `${left}px`, width: `${w}px` }} title={label} role="img" aria-label={label}>
              {w > 18 ? look.symbol : ''}
            </span>
          );
        })}
      </div>
    );
  };

  return (
    <div class="timeline" ref={box}>
      <div class="toolbar">
        <button onClick={() => setLevel(level + 1)}>Zoom in</button>
        <button onClick={() => setLevel(level - 1)} disabled={msPerPx >= 86_400_000}>Zoom out</button>
        <button onClick={() => setLevel(0)}>Fit</button>
        <span class="muted">{durationText(0, span.end - span.start, 0)} shown · {msPerPx < 1000 ? `${msPerPx.toFixed(1)} ms` : `${(msPerPx / 1000).toFixed(1)} s`} per pixel</span>
      </div>
      <VirtualList count={p.rows.length} rowHeight={ROW_HEIGHT} row={row} header={header} headerHeight={AXIS_HEIGHT} width={width} label="timeline" />
    </div>
  );
}
