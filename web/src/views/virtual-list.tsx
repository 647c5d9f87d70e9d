/**
 * A scrolling list that renders only the rows in view (plus a few either side): 10^4 rows cost
 * what a screenful costs. Rows have one fixed height; the list is as tall as all of them.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps {
  readonly count: number;
  readonly rowHeight: number;
  /** the k-th row's content; it is placed by the list */
  readonly row: (k: number) => ComponentChildren;
  /** rows rendered beyond the visible ones, each side */
  readonly overscan?: number;
  /** content above the rows that scrolls with them horizontally (the timeline's axis) */
  readonly header?: ComponentChildren;
  readonly headerHeight?: number;
  /** width of the scrolled content (the timeline is wider than its view) */
  readonly width?: number;
  readonly label: string;
  readonly onScroll?: (left: number, viewWidth: number) => void;
}

export function VirtualList(p: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = box.current!;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const onScroll = () => {
    // one render per frame, however many scroll events arrive
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      const el = box.current;
      if (!el) return;
      setView({ top: el.scrollTop, height: el.clientHeight });
      p.onScroll?.(el.scrollLeft, el.clientWidth);
    });
  };

  const headerHeight = p.headerHeight ?? 0;
  const overscan = p.overscan ?? 10;
  const first = Math.max(0, Math.floor((view.top - headerHeight) / p.rowHeight) - overscan);
  const last = Math.min(p.count, Math.ceil((view.top + view.height) / p.rowHeight) + overscan);
  const rows = [];
  for (let k = first; k < last; k++) {
    rows.push(
      <div key={k} class="vrow" role="row" aria-rowindex={k + 1} style={{ top: `${headerHeight + k * p.rowHeight}px`, height: `${p.rowHeight}px` }}>
        {p.row(k)}
      </div>,
    );
  }
  return (
    <div class="vlist" ref={box} onScroll={onScroll} role="grid" aria-label={p.label} aria-rowcount={p.count}>
      <div class="vlist-body" style={{ height: `${headerHeight + p.count * p.rowHeight}px`, width: p.width ? `${p.width}px` : '100%' }}>
        {p.header}
        {rows}
      </div>
    </div>
  );
}
