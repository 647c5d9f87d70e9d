/**
 * The node tree, drawn like `pipestate status`: per row a symbol and colour for the state shown
 * (with the state's name: never colour alone), the name, id, duration (ticking while it runs),
 * retry and loop counts; a failed node's error data on the row below it. Subprocesses fold.
 * Only the rows in view are rendered.
 */
import type { TaskModel } from '../model/task-model.js';
import { durationText, firstLine, lookOf } from '../model/format.js';
import { VirtualList } from './virtual-list.js';

export const ROW_HEIGHT = 26;

export interface TreeProps {
  readonly model: TaskModel;
  readonly rows: Int32Array;
  readonly collapsed: ReadonlySet<number>;
  readonly selected: number;
  readonly now: number;
  readonly onToggle: (i: number) => void;
  readonly onSelect: (i: number) => void;
}

/** What the CLI's MESSAGE column says. */
function noteOf(skip: boolean, errorIgnored: boolean, shown: string): string {
  return [skip ? 'skipped' : '', errorIgnored ? 'error ignored' : '', shown === 'NODE_SUSPENDED' ? 'a node inside is paused' : '']
    .filter((m) => m !== '').join(', ');
}

export function Tree(p: TreeProps) {
  const { model } = p;
  // Enter or space selects; the arrows fold and unfold, as in a file tree.
  const onKey = (e: KeyboardEvent, i: number) => {
    const n = model.nodes[i];
    if (e.key === 'Enter' || e.key === ' ') p.onSelect(i);
    else if ((e.key === 'ArrowLeft' && !p.collapsed.has(i)) || (e.key === 'ArrowRight' && p.collapsed.has(i))) {
      if (n.end > i + 1) p.onToggle(i);
    } else return;
    e.preventDefault();
  };
  const row = (k: number) => {
    const i = p.rows[k] >> 1;
    const n = model.nodes[i];
    const indent = { paddingLeft: `${8 + n.depth * 18}px` };
    if ((p.rows[k] & 1) === 1) {
      const text = firstLine(n.exData ?? null);
      return <div class="tree-error" style={indent} title={text} data-error-of={n.id}>
        <span class="fold-space" aria-hidden="true" /><span class="ansi-31">error: {text}</span>
      </div>;
    }
    const look = lookOf(n.shown);
    const hasChildren = n.end > i + 1;
    const open = !p.collapsed.has(i);
    return (
      <div class={`tree-row${p.selected === i ? ' selected' : ''}`} data-node={n.id} data-state={n.shown} tabIndex={0}
        aria-selected={p.selected === i} onClick={() => p.onSelect(i)} onKeyDown={(e) => onKey(e, i)}>
        <span class="cell step" style={indent}>
          {hasChildren
            ? <button class="fold" aria-expanded={open} aria-label={`${open ? 'collapse' : 'expand'} ${n.name || n.id}`}
              onClick={(e) => { e.stopPropagation(); p.onToggle(i); }}>{open ? '▾' : '▸'}</button>
            : <span class="fold-space" aria-hidden="true" />}
          <span class={`symbol ${look.colour}`} role="img" aria-label={n.shown} title={n.shown}>{look.symbol}</span>
          <span class="name">{i === 0 ? model.name : n.name || n.id}</span>
        </span>
        <span class="cell id">{n.id}</span>
        <span class={`cell state ${look.colour}`}>{n.shown}</span>
        <span class="cell duration">{durationText(n.startedAt, n.finishedAt, p.now)}</span>
        <span class="cell retry" title="retries (and skips)">{n.retry > 0 ? `↻ ${n.retry}` : ''}</span>
        <span class="cell loop" title="times entered">{n.loop > 1 ? `⟳ ${n.loop}` : ''}</span>
        <span class="cell note">{noteOf(n.skip, n.errorIgnored, n.shown)}</span>
      </div>
    );
  };
  return (
    <div class="tree">
      <div class="tree-head" aria-hidden="true">
        <span class="cell step">STEP</span><span class="cell id">ID</span><span class="cell state">STATE</span>
        <span class="cell duration">DURATION</span><span class="cell retry">RETRY</span><span class="cell loop">LOOP</span><span class="cell note">MESSAGE</span>
      </div>
      <VirtualList count={p.rows.length} rowHeight={ROW_HEIGHT} row={row} label="node tree" />
    </div>
  );
}
