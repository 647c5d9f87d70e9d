/**
 * Section 1: operations on nested pipelines of 10^3..10^6 nodes and on the wide pipeline, on the
 * running frontier and on random leaves, against the floor and the literal design measured in
 * the same run.
 *
 * pipestate runs in two variants (pipestate-subject.ts): `reader` takes a snapshot after every
 * operation, `transient` applies a batch without one. The targets are checked on `reader`: it
 * is the guarantee pipestate makes (any reader, at any moment, holds an immutable snapshot) and
 * its worst case, since every operation then copies its trie path; `transient` is what a burst
 * of reports with no reader in between costs.
 *
 * A wide tree is measured in the same rounds as the nested tree of its size, so "no slower on
 * the wide pipeline" compares figures taken under the same load.
 */
import { Floor } from './baselines/floor.js';
import { Literal } from './baselines/literal.js';
import { shapeOf, type BenchConfig } from './config.js';
import { OpMeasurer, compare, type OpTiming } from './measure.js';
import { PipestateTransient, SharedPipestate, storeWith } from './pipestate-subject.js';
import { check, ns, progress, ratio, type Check, type SectionResult, type Table } from './report.js';
import type { Subject } from './subject.js';
import { nestedPipeline, pow10, widePipeline, type Tree } from './trees.js';
import { Batch, FrontierSource, RandomSource, type OpSource } from './workloads.js';

/** No rerun limit in the way: the random workload re-enters leaves hundreds of times. */
const RERUN_LIMIT = 1e9;
const SEED = 20240601;
const BATCH = 256;
/** The literal design takes 20 µs–4 ms per operation: smaller batches keep its samples many. */
const LITERAL_BATCH = 16;

type Workload = 'frontier' | 'random';
type SubjectName = 'floor' | 'transient' | 'reader' | 'literal';

interface Row {
  readonly tree: string;
  readonly nodes: number;
  readonly wide: boolean;
  readonly workload: Workload;
  readonly timings: Partial<Record<SubjectName, OpTiming>>;
}

/** A fresh operation source, and the prelude it needs applied first. */
function sourceFor(tree: Tree, workload: Workload): { source: OpSource; prelude?: { ids: string[]; ops: number[] } } {
  if (workload === 'frontier') return { source: new FrontierSource(tree.flat) };
  const source = new RandomSource(tree.flat, SEED);
  return { source, prelude: source.prelude };
}

function floorFresh(tree: Tree, workload: Workload): { subject: Subject; source: OpSource } {
  const { source, prelude } = sourceFor(tree, workload);
  const subject = new Floor(tree.definition, RERUN_LIMIT);
  if (prelude) subject.applyAll(prelude.ids, prelude.ops);
  return { subject, source };
}

/** The literal design is restored from a floor that ran the prelude: running it through the literal design takes minutes on the larger trees. */
function literalFresh(tree: Tree, workload: Workload): { subject: Subject; source: OpSource } {
  const { source, prelude } = sourceFor(tree, workload);
  if (!prelude) return { subject: new Literal(tree.definition, RERUN_LIMIT), source };
  const floor = new Floor(tree.definition, RERUN_LIMIT);
  floor.applyAll(prelude.ids, prelude.ops);
  return { subject: new Literal(tree.definition, RERUN_LIMIT, Date.now, floor), source };
}

function pipestateShared(tree: Tree, workload: Workload): SharedPipestate {
  return new SharedPipestate(() => {
    const { source, prelude } = sourceFor(tree, workload);
    const store = storeWith(tree.definition, { rerunLimit: RERUN_LIMIT });
    if (prelude) new PipestateTransient(store).applyAll(prelude.ids, prelude.ops);
    return { store, source };
  });
}

function measurersFor(tree: Tree, workload: Workload, literal: boolean): OpMeasurer[] {
  const batch = (name: SubjectName) =>
    new Batch(Math.min(name === 'literal' ? LITERAL_BATCH : BATCH, workload === 'random' ? RandomSource.maxBatch(tree.flat) : BATCH));
  const shared = pipestateShared(tree, workload);
  const label = (name: SubjectName) => `${name}|${tree.label}`;
  return [
    new OpMeasurer(label('floor'), { fresh: () => floorFresh(tree, workload), batch: batch('floor') }),
    new OpMeasurer(label('transient'), { fresh: () => shared.fresh('transient'), batch: batch('transient') }),
    new OpMeasurer(label('reader'), { fresh: () => shared.fresh('reader'), batch: batch('reader') }),
    ...(literal
      ? [new OpMeasurer(label('literal'), { fresh: () => literalFresh(tree, workload), batch: batch('literal'), scale: 0.5 })]
      : []),
  ];
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  const rows: Row[] = [];
  // Wide trees whose size is not one of the nested sizes are measured on their own.
  const sizes = [...new Set([...config.sizes, ...config.wide])].sort((a, b) => a - b);
  for (const size of sizes) {
    const trees: { tree: Tree; wide: boolean; literal: boolean }[] = [];
    if (config.sizes.includes(size)) trees.push({ tree: nestedPipeline(shapeOf(size)), wide: false, literal: size <= config.literalMax });
    // On the wide tree every operation copies the root's children array (1–4 ms per operation at
    // 10^4 branches): the literal design runs on the smaller wide tree only.
    if (config.wide.includes(size)) trees.push({ tree: widePipeline(size), wide: true, literal: size <= Math.min(1e4, config.literalMax) });
    for (const workload of ['frontier', 'random'] as const) {
      const t0 = performance.now();
      const groups = trees.map((t) => ({ ...t, measurers: measurersFor(t.tree, workload, t.literal) }));
      await compare(
        groups.flatMap((g) => g.measurers),
        config,
      );
      for (const g of groups) {
        const timings: Row['timings'] = Object.fromEntries(g.measurers.map((m) => [m.name.split('|')[0], m.timing()]));
        rows.push({ tree: g.tree.label, nodes: g.tree.flat.size, wide: g.wide, workload, timings });
        progress(`${g.tree.label} ${workload}: ${g.measurers.map((m) => `${m.name.split('|')[0]} ${ns(m.timing().median)}`).join(', ')}`);
      }
      progress(`(${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
    }
  }
  return {
    section: 'operations',
    title: 'Operations (per operation, median)',
    tables: [mainTable(rows), meanTable(rows), kindTable(rows)],
    checks: checks(rows),
    notes: notes(config),
    raw: rows,
  };
}

const t = (r: Row, s: SubjectName): number => r.timings[s]?.median ?? NaN;

function mainTable(rows: readonly Row[]): Table {
  return {
    caption: 'Per-operation median; ratios against the floor measured in the same run',
    header: [
      'tree',
      'workload',
      'floor (Map)',
      'pipestate reader',
      '× floor',
      'pipestate transient',
      '× floor',
      'literal design',
      'literal ÷ reader',
      'literal ÷ floor',
    ],
    rows: rows.map((r) => [
      r.tree,
      r.workload,
      ns(t(r, 'floor')),
      ns(t(r, 'reader')),
      ratio(t(r, 'reader') / t(r, 'floor')),
      ns(t(r, 'transient')),
      ratio(t(r, 'transient') / t(r, 'floor')),
      r.timings.literal ? ns(t(r, 'literal')) : 'not run',
      r.timings.literal ? ratio(t(r, 'literal') / t(r, 'reader')) : '—',
      r.timings.literal ? ratio(t(r, 'literal') / t(r, 'floor')) : '—',
    ]),
  };
}

const mean = (r: Row, s: SubjectName): number => r.timings[s]?.mean ?? NaN;

function meanTable(rows: readonly Row[]): Table {
  return {
    caption: 'Per-operation mean, garbage collection included (a pause lands in few batches, so medians leave most of it out)',
    header: ['tree', 'workload', 'floor (Map)', 'pipestate reader', '× floor', 'pipestate transient', '× floor'],
    rows: rows.map((r) => [
      r.tree,
      r.workload,
      ns(mean(r, 'floor')),
      ns(mean(r, 'reader')),
      ratio(mean(r, 'reader') / mean(r, 'floor')),
      ns(mean(r, 'transient')),
      ratio(mean(r, 'transient') / mean(r, 'floor')),
    ]),
  };
}

function kindTable(rows: readonly Row[]): Table {
  const kinds = ['start', 'finish', 'fail', 'retry', 'skip', 'reenter'];
  return {
    caption: 'Random leaves by operation: median per operation, pipestate reader (× floor)',
    header: ['tree', ...kinds],
    rows: rows
      .filter((r) => r.workload === 'random')
      .map((r) => [
        r.tree,
        ...kinds.map((k) => {
          const p = r.timings.reader?.byKind[k] ?? NaN;
          const f = r.timings.floor?.byKind[k] ?? NaN;
          return `${ns(p)} (${ratio(p / f)})`;
        }),
      ]),
  };
}

function checks(rows: readonly Row[]): Check[] {
  const out: Check[] = [];
  const nested = rows.filter((r) => !r.wide);
  const largest = Math.max(...nested.map((r) => r.nodes));
  const at = (w: Workload) => nested.find((r) => r.nodes === largest && r.workload === w)!;
  const big = pow10(largest);
  for (const [w, limit] of [
    ['frontier', 3],
    ['random', 5],
  ] as const) {
    const r = at(w);
    out.push(check(`${w} at ${big} nodes: reader ÷ floor, medians`, t(r, 'reader') / t(r, 'floor'), limit, ratio));
    out.push(check(`${w} at ${big} nodes: reader ÷ floor, means (GC included)`, mean(r, 'reader') / mean(r, 'floor'), limit, ratio));
  }
  for (const w of rows.filter((r) => r.wide)) {
    const twin = nested.find((r) => Math.abs(r.nodes - w.nodes) / w.nodes < 0.01 && r.workload === w.workload);
    if (twin) {
      out.push(
        check(
          `${w.tree}, ${w.workload}: reader ÷ reader on nested ${pow10(twin.nodes)} (no slower; 10% for noise)`,
          t(w, 'reader') / t(twin, 'reader'),
          1.1,
          ratio,
        ),
      );
    }
  }
  for (const wide of [false, true]) {
    const withLiteral = rows.filter((x) => x.timings.literal && x.wide === wide);
    const top = Math.max(...withLiteral.map((x) => x.nodes));
    for (const r of withLiteral.filter((x) => x.nodes === top)) {
      out.push(check(`${r.tree}, ${r.workload}: literal ÷ reader`, t(r, 'literal') / t(r, 'reader'), 100, ratio, true));
    }
  }
  return out;
}

function notes(config: BenchConfig): string[] {
  return [
    'frontier: preorder progress (containers started on entry and finished after their subtree; leaves started and finished, 1 in 20 failed and retried, 1 in 50 failed and skipped). random: uniformly random leaves, one operation kind per batch, rotating reenter, fail, retry, start, fail, skip, reenter, finish over pools that keep 20% of leaves CREATED/READY, 30% RUNNING, 10% FAILED, 40% FINISHED.',
    'reader: a snapshot is taken after every operation, so every operation copies its trie path (the targets apply to it); transient: no snapshot within a batch of 256, so the batch shares one path copy. Subjects take turns in rounds and their samples are pooled.',
    `literal design: one live xstate actor per node and immer produce over a nested whole-tree object; run up to ${pow10(config.literalMax)} nested nodes and 10^4 wide branches (see the memory section for its size per node). Its figures bound what "≥ 100× faster" can mean: on nested trees even the floor is only literal ÷ floor faster.`,
  ];
}
