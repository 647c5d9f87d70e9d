/**
 * The status answer of one node's subtree (SPEC §3.2–3.4), built in one forward pass over the
 * subtree's preorder range.
 *
 * A node is answered when it is the answered root or when it has left CREATED and its parent is
 * answered; a CREATED node's whole subtree is skipped with one hop (`end[i]`), so a huge task
 * that has barely started costs what it shows. The ancestors of the node being visited are kept
 * on an explicit stack (never the call stack: depth is the definition's to choose). An answer
 * object is created when its node is visited, with its own state, and inserted into its parent's
 * `children` at once, so children appear in definition order; when the pass leaves a node's
 * range, all its children are known and the state it shows (§3.3) is written over the stored
 * one. Writing a key an object already has does not change its shape: every answer object is
 * built from one literal, in the key order of §3.2.
 *
 * ex_data (§3.4) is gathered on the way out as well: `failed` holds, in preorder, the nodes that
 * would be listed if every ancestor up to the answered root were shown FAILED. Leaving a node
 * shown anything else drops what its subtree added; leaving a node shown FAILED with no child
 * shown FAILED replaces what its subtree added by the node itself.
 */
import type { NodeRecord, State } from '../lifecycle/index.js';
import { NODES_PER_SLICE, complete, type PipelineDefinition, type Slices } from '../model/index.js';
import { recordAt, type TaskView } from '../store/index.js';
import { CHILD_BIT, CHILD_FAILED, shownState } from './derive.js';
import { newIdKeyed } from './id-keyed.js';
import { elapsedAt, timesOf, type TaskTimes } from './record-times.js';
import type { NodeStatus, ShownState } from './types.js';

export interface TreeOptions {
  /** build the descendants' answers; when false only the root is built, with `children` empty */
  readonly withChildren: boolean;
  /** add `ex_data` to the root when it is shown FAILED */
  readonly withExData: boolean;
}

/** The answer for node `root` of `task` at clock time `now` (ms). */
export function statusTree(task: TaskView, root: number, now: number, options: TreeOptions): NodeStatus {
  return complete(statusTreeSlices(task, root, now, options));
}

/** The same answer, built in slices of at most NODES_PER_SLICE visited nodes. */
export function statusTreeSlices(task: TaskView, root: number, now: number, options: TreeOptions): Slices<NodeStatus> {
  return new StatusPass(task, root, now, options).run();
}

class StatusPass {
  private readonly def: PipelineDefinition;
  private readonly times: TaskTimes;
  // The open nodes (the visited node's answered ancestors), innermost last, one array per field.
  private readonly openIndex: number[] = [];
  private readonly openState: State[] = [];
  private readonly openAnswer: (NodeStatus | undefined)[] = [];
  private readonly openBits: number[] = [];
  private readonly openFailedFrom: number[] = [];
  private top = 0;
  private readonly failed: number[] = [];
  private rootAnswer: NodeStatus | undefined;
  private rootShown: ShownState = 'CREATED';

  /** only the root is built and no ex_data is gathered */
  private readonly rootOnly: boolean;

  constructor(
    private readonly task: TaskView,
    private readonly root: number,
    private readonly now: number,
    private readonly options: TreeOptions,
  ) {
    this.def = task.definition;
    this.times = timesOf(task);
    this.rootOnly = !options.withChildren && !options.withExData;
  }

  *run(): Slices<NodeStatus> {
    const { def, root } = this;
    let visited = 0;
    for (let i = root, stop = def.end[root]; i < stop; ) {
      if (++visited === NODES_PER_SLICE) {
        visited = 0;
        yield;
      }
      const record = recordAt(this.task, i);
      if (record.state === 'CREATED' && i !== root) {
        i = def.end[i];
        continue;
      }
      while (this.top > 0 && def.end[this.openIndex[this.top - 1]] <= i) this.close();
      this.open(i, record);
      // Only a RUNNING node shows what its children decide (§3.3). When nothing below the root is
      // answered and no ex_data is gathered (get_tasks_status without children), the subtree of
      // any other node cannot change the answer: hop over it.
      i = this.rootOnly && i !== root && record.state !== 'RUNNING' ? def.end[i] : i + 1;
    }
    while (this.top > 0) this.close();
    const answer = this.rootAnswer!;
    if (this.options.withExData && this.rootShown === 'FAILED') answer.ex_data = this.exData();
    return answer;
  }

  private open(i: number, record: NodeRecord): void {
    const t = this.top;
    const answer = t === 0 || this.options.withChildren ? this.answerOf(i, record) : undefined;
    if (t === 0) this.rootAnswer = answer;
    else if (answer !== undefined) this.openAnswer[t - 1]!.children[this.def.ids[i]] = answer;
    this.openIndex[t] = i;
    this.openState[t] = record.state;
    this.openAnswer[t] = answer;
    this.openBits[t] = 0;
    this.openFailedFrom[t] = this.failed.length;
    this.top = t + 1;
  }

  private close(): void {
    const t = --this.top;
    const bits = this.openBits[t];
    const shown = shownState(this.openState[t], bits);
    const answer = this.openAnswer[t];
    if (answer !== undefined) answer.state = shown;
    this.openAnswer[t] = undefined;
    const listedFrom = this.openFailedFrom[t];
    if (shown !== 'FAILED') {
      this.failed.length = listedFrom;
    } else if ((bits & CHILD_FAILED) === 0) {
      this.failed.length = listedFrom;
      this.failed.push(this.openIndex[t]);
    } // else shown FAILED through a child shown FAILED: keep what the children listed
    if (t > 0) this.openBits[t - 1] |= CHILD_BIT[shown];
    else this.rootShown = shown;
  }

  private answerOf(i: number, record: NodeRecord): NodeStatus {
    const times = this.times.of(i, record);
    return {
      id: this.def.ids[i],
      state: record.state,
      // The task's pipeline answers with the task's name (as the original does).
      name: i === 0 ? this.task.task.name : this.def.names[i],
      retry: record.retry,
      loop: record.loop,
      skip: record.skip,
      error_ignorable: record.error_ignored,
      version: record.version,
      state_refresh_at: times.state_refresh_at,
      elapsed_time: elapsedAt(times, this.now),
      children: newIdKeyed<NodeStatus>(),
      start_time: times.start_time,
      finish_time: times.finish_time,
    };
  }

  private exData(): NodeStatus['ex_data'] {
    const exData = newIdKeyed<NonNullable<NodeStatus['ex_data']>[string]>();
    for (const i of this.failed) exData[this.def.ids[i]] = recordAt(this.task, i).ex_data ?? null;
    return exData;
  }
}
