/**
 * Section 4: heap bytes per node, pipestate against the floor (and the literal design where it
 * can be built), in two states: `built`, every node CREATED, right after the task is registered;
 * `run`, after a whole frontier pass, when every node has a record of its own (and the retried
 * and skipped ones a history). Each figure is heap retained (after a full GC) divided by the
 * nodes held, everything the subject keeps included: definition, ids, records, indexes. The
 * smaller sizes register several tasks so that each figure covers at least 10^5 nodes (2·10^4
 * with --quick).
 */
import { Floor } from './baselines/floor.js';
import { Literal } from './baselines/literal.js';
import { shapeOf, type BenchConfig } from './config.js';
import { heapUsed, requireGc } from './heap.js';
import { storeWith } from './pipestate-subject.js';
import { bytes, check, progress, ratio, type Check, type SectionResult } from './report.js';
import { MACHINE_OPERATIONS, type Operation } from '../src/lifecycle/index.js';
import { nestedPipeline, pow10 } from './trees.js';
import { frontierPrefix } from './workloads.js';

const NAMES = MACHINE_OPERATIONS as readonly Operation[];
const GIB = 1024 ** 3;

interface Figures {
  /** bytes per node, all CREATED */
  readonly built: number;
  /** bytes per node, after a whole frontier pass; NaN when not run */
  readonly run: number;
  /** total heap in use after the run (or the build), bytes */
  readonly heapAfter: number;
}

interface Row {
  readonly nodes: number;
  readonly copies: number;
  readonly floor: Figures;
  readonly pipestate: Figures;
  readonly literal?: Figures;
}

/** What each subject needs to be built and run; the tree is made inside so that only the subject keeps it. */
interface Holder {
  build(copies: number): void;
  run(): void;
  /** Drops what it holds: the interpreter may keep a dead holder reachable for a while. */
  release(): void;
}

class PipestateHolder implements Holder {
  private stores: ReturnType<typeof storeWith>[] = [];
  constructor(private readonly nodes: number) {}
  build(copies: number): void {
    for (let c = 0; c < copies; c++) this.stores.push(storeWith(nestedPipeline(shapeOf(this.nodes)).definition, { rerunLimit: 1e9 }));
  }
  run(): void {
    const pass = frontierPrefix(nestedPipeline(shapeOf(this.nodes)).flat, 1);
    for (const s of this.stores) for (let k = 0; k < pass.ids.length; k++) s.apply('1', pass.ids[k], NAMES[pass.ops[k]]);
  }
  release(): void {
    this.stores = [];
  }
}

class FloorHolder implements Holder {
  private floors: Floor[] = [];
  constructor(private readonly nodes: number) {}
  build(copies: number): void {
    for (let c = 0; c < copies; c++) this.floors.push(new Floor(nestedPipeline(shapeOf(this.nodes)).definition, 1e9));
  }
  run(): void {
    const pass = frontierPrefix(nestedPipeline(shapeOf(this.nodes)).flat, 1);
    for (const f of this.floors) f.applyAll(pass.ids, pass.ops);
  }
  release(): void {
    this.floors = [];
  }
}

class LiteralHolder implements Holder {
  private literals: Literal[] = [];
  constructor(private readonly nodes: number) {}
  build(copies: number): void {
    for (let c = 0; c < copies; c++) this.literals.push(new Literal(nestedPipeline(shapeOf(this.nodes)).definition, 1e9));
  }
  run(): void {
    throw new Error('not run: a whole pass through the literal design takes minutes at these sizes');
  }
  release(): void {
    this.literals = [];
  }
}

function measure(holder: Holder, nodes: number, copies: number, run: boolean): Figures {
  const h0 = heapUsed();
  holder.build(copies);
  const h1 = heapUsed();
  if (run) holder.run();
  const h2 = run ? heapUsed() : NaN;
  holder.release();
  return { built: (h1 - h0) / (nodes * copies), run: (h2 - h0) / (nodes * copies), heapAfter: run ? h2 : h1 };
}

export async function run(config: BenchConfig): Promise<SectionResult> {
  requireGc();
  const rows: Row[] = [];
  for (const nodes of config.sizes) {
    const copies = Math.max(1, Math.round((config.quick ? 2e4 : 1e5) / nodes));
    // One subject at a time, each released before the next is measured.
    const floor = measure(new FloorHolder(nodes), nodes, copies, true);
    const pipestate = measure(new PipestateHolder(nodes), nodes, copies, true);
    const literal = nodes <= config.literalMax ? measure(new LiteralHolder(nodes), nodes, copies, false) : undefined;
    rows.push({ nodes, copies, floor, pipestate, ...(literal ? { literal } : {}) });
    progress(
      `${pow10(nodes)}: floor ${bytes(floor.built)}/${bytes(floor.run)}, pipestate ${bytes(pipestate.built)}/${bytes(pipestate.run)}` +
        (literal ? `, literal ${bytes(literal.built)}` : ''),
    );
  }
  const largest = rows[rows.length - 1];
  const checks: Check[] = [];
  for (const r of rows) {
    checks.push(check(`${pow10(r.nodes)} nodes, after a run: pipestate ÷ floor per node`, r.pipestate.run / r.floor.run, 1.5, ratio));
  }
  checks.push(
    check(`${pow10(largest.nodes)}-node task after a run: heap in use`, largest.pipestate.heapAfter / GIB, 1, (x) => bytes(x * GIB)),
  );
  const literalRows = rows.filter((r) => r.literal);
  const lastLiteral = literalRows[literalRows.length - 1];
  return {
    section: 'memory',
    title: 'Memory: heap per node (after a full GC)',
    tables: [
      {
        caption: 'Heap bytes per node: built (all CREATED) / after a whole frontier pass',
        header: [
          'nodes',
          'tasks held',
          'floor built',
          'floor run',
          'pipestate built',
          'pipestate run',
          'run: pipestate ÷ floor',
          'literal built',
          'heap in use after the run',
        ],
        rows: rows.map((r) => [
          pow10(r.nodes),
          String(r.copies),
          bytes(r.floor.built),
          bytes(r.floor.run),
          bytes(r.pipestate.built),
          bytes(r.pipestate.run),
          ratio(r.pipestate.run / r.floor.run),
          r.literal ? bytes(r.literal.built) : 'not built',
          bytes(r.pipestate.heapAfter),
        ]),
      },
    ],
    checks,
    notes: [
      'Heap retained after two full collections, divided by the nodes held; it includes everything the subject keeps (definition, id strings, records, indexes, histories). Node ids are short (`n` + base-36 preorder number), so strings do not pad either side.',
      ...(lastLiteral?.literal
        ? [
            `The literal design holds ${bytes(lastLiteral.literal.built)} per node when built (one xstate actor each); at 10^6 nodes that is ${bytes(lastLiteral.literal.built * 1e6)} before any operation, which is where it stops.`,
          ]
        : []),
    ],
    raw: rows,
  };
}
