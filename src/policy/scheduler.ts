/**
 * The engine's own operations: the auto_retry and timeout policies of node definitions (bk-sops'
 * "auto retry" and "timeout" node settings), performed on the engine's clock.
 *
 * The scheduler follows the change feed like any listener and arms at most one timer per policy
 * node: while the node is RUNNING, its timeout (due `timeout.seconds` after it started); while
 * it is FAILED with auto retries left, its retry (due `interval_seconds` after it failed). Each
 * change of the node re-decides, so a finish, a manual retry, a skip or a revoke disarms it.
 * A timer that fires applies an ordinary operation through the store, guarded by the version it
 * was armed for: the result is an ordinary change and event (and what a journal records), and
 * a timer that lost a race (the node moved on) is refused by the store and changes nothing.
 *
 * Cost when unused: nothing per operation. The scheduler hears of each new task; only once a
 * task with policies exists does it listen to node changes at all, and then it looks at a change
 * only through one Map lookup by task id.
 */
import type { NodeRecord } from '../lifecycle/index.js';
import { PipestateError, type NodePolicy, type TimeoutPolicy } from '../model/index.js';
import { recordAt, type NodeChange, type Store, type TaskCreated, type TaskDeleted } from '../store/index.js';
import type { Timers } from './timers.js';

/** What the scheduler needs of the store. */
export type PolicyStore = Pick<Store, 'on' | 'off' | 'apply' | 'snapshot'>;

/** One timer the scheduler holds for a node. */
interface Job {
  readonly kind: 'timeout' | 'auto_retry';
  /** ms on the engine clock */
  readonly at: number;
  /** the node's version when armed: the operation is refused if the node has moved on */
  readonly version: string;
}

interface Armed extends Job {
  readonly cancel: () => void;
}

interface Followed {
  readonly rootId: string;
  /** by node id */
  readonly policies: ReadonlyMap<string, NodePolicy>;
  readonly armed: Map<string, Armed>;
}

/** The ex_data a timeout's forced_fail carries, so a reader sees why the node failed. */
export const timeoutMessage = (t: TimeoutPolicy): string =>
  `node timed out: still RUNNING ${t.seconds} s after it started (timeout action ${t.action})`;

/** The timer a node's policy wants for its current record, if any. */
function jobFor(policy: NodePolicy, r: NodeRecord): Job | undefined {
  const { timeout, autoRetry } = policy;
  if (r.state === 'RUNNING' && timeout !== undefined && r.started_at !== null) {
    return { kind: 'timeout', at: r.started_at + timeout.seconds * 1000, version: r.version };
  }
  if (r.state === 'FAILED' && autoRetry !== undefined && r.auto_retry_times < autoRetry.max_times) {
    return { kind: 'auto_retry', at: (r.finished_at ?? r.state_refresh_at) + autoRetry.interval_seconds * 1000, version: r.version };
  }
  return undefined;
}

const sameJob = (a: Job, b: Job): boolean => a.kind === b.kind && a.at === b.at && a.version === b.version;

export class PolicyScheduler {
  private readonly followed = new Map<string, Followed>();
  private listening = false;
  private readonly onTask = (t: TaskCreated): void => this.follow(t.taskId);
  private readonly onDeleted = (t: TaskDeleted): void => this.forget(t.taskId);
  private readonly onNode = (c: NodeChange): void => this.changed(c);

  constructor(
    private readonly store: PolicyStore,
    private readonly timers: Timers,
    /** hears errors that are not refusals (bugs); a refusal means the timer lost a race */
    private readonly onError: (error: unknown) => void,
  ) {
    store.on('task', this.onTask);
    store.on('task_deleted', this.onDeleted);
  }

  /** Timers armed now, over all tasks. */
  get armed(): number {
    let n = 0;
    for (const f of this.followed.values()) n += f.armed.size;
    return n;
  }

  /** Cancels every timer and stops listening. */
  close(): void {
    for (const f of this.followed.values()) for (const a of f.armed.values()) a.cancel();
    this.followed.clear();
    this.store.off('task', this.onTask);
    this.store.off('task_deleted', this.onDeleted);
    if (this.listening) this.store.off('node', this.onNode);
    this.listening = false;
  }

  /**
   * Starts following a task that has policies, arming what its nodes' current records call for
   * (nothing for a new task; something for one restored with nodes under way).
   */
  follow(taskId: string): void {
    const task = this.store.snapshot().getTask(taskId);
    if (task === undefined || task.definition.policies.size === 0 || this.followed.has(taskId)) return;
    // A revoked task accepts nothing more (as `changed` forgets it): nothing to arm. Recovery
    // follows every task it restores, revoked ones included.
    if (recordAt(task, 0).state === 'REVOKED') return;
    const def = task.definition;
    const f: Followed = {
      rootId: def.ids[0],
      policies: new Map([...def.policies].map(([i, p]) => [def.ids[i], p])),
      armed: new Map(),
    };
    this.followed.set(taskId, f);
    if (!this.listening) {
      this.store.on('node', this.onNode);
      this.listening = true;
    }
    for (const [i, policy] of def.policies) this.arm(taskId, f, def.ids[i], policy, recordAt(task, i));
  }

  private changed(c: NodeChange): void {
    const f = this.followed.get(c.taskId);
    if (f === undefined) return;
    if (c.nodeId === f.rootId && c.to === 'REVOKED') {
      // A revoked task accepts nothing more: forget it.
      this.forget(c.taskId);
      return;
    }
    const policy = f.policies.get(c.nodeId);
    if (policy !== undefined) this.arm(c.taskId, f, c.nodeId, policy, c.record);
  }

  /** Cancels a task's timers and stops following it (revoked, or deleted). */
  private forget(taskId: string): void {
    const f = this.followed.get(taskId);
    if (f === undefined) return;
    for (const a of f.armed.values()) a.cancel();
    this.followed.delete(taskId);
  }

  private arm(taskId: string, f: Followed, nodeId: string, policy: NodePolicy, record: NodeRecord): void {
    const want = jobFor(policy, record);
    const have = f.armed.get(nodeId);
    if (have !== undefined && want !== undefined && sameJob(have, want)) return;
    have?.cancel();
    f.armed.delete(nodeId);
    if (want === undefined) return;
    const armed: Armed = {
      ...want,
      cancel: this.timers.schedule(want.at, () => {
        if (f.armed.get(nodeId) === armed) f.armed.delete(nodeId);
        this.fire(taskId, nodeId, want, policy);
      }),
    };
    f.armed.set(nodeId, armed);
  }

  private fire(taskId: string, nodeId: string, job: Job, policy: NodePolicy): void {
    if (job.kind === 'auto_retry') {
      this.attempt(() => this.store.apply(taskId, nodeId, 'auto_retry', { version: job.version }));
      return;
    }
    const timeout = policy.timeout!;
    const failed = this.attempt(() =>
      this.store.apply(taskId, nodeId, 'forced_fail', { version: job.version, ex_data: timeoutMessage(timeout) }),
    );
    if (failed !== undefined && timeout.action === 'forced_fail_and_skip') {
      this.attempt(() => this.store.apply(taskId, nodeId, 'skip', { version: failed[0].record.version }));
    }
  }

  /** Runs an operation; a refusal (the node moved on, the task was revoked or deleted) is no error. */
  private attempt(run: () => NodeChange[]): NodeChange[] | undefined {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof PipestateError)) {
        try {
          this.onError(error);
        } catch {
          /* a failing reporter must not stop the timers */
        }
      }
      return undefined;
    }
  }
}
