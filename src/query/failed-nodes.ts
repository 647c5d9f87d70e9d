/**
 * `failed_node_info` and `auto_retry_status` of a get_task_status answer, as today's bk-sops
 * builds them (gcloud/apigw/views/get_task_status.py, gcloud/taskflow3/utils.py): the failed
 * nodes are found in the answer itself, depth first, by descending from the answered node through
 * children shown FAILED (a failed subprocess is listed, and so are its failed children); each
 * maps to `{}`, or, when the node has an auto_retry policy, to its auto retry counts.
 */
import type { TaskView } from '../store/index.js';
import { recordAt } from '../store/index.js';
import { newIdKeyed } from './id-keyed.js';
import type { AutoRetryStatus, FailedNodeInfo, IdKeyed, NodeStatus } from './types.js';

/** Ids of the nodes below `answer` shown FAILED, in preorder, through failed parents only. */
export function failedNodeIds(answer: NodeStatus): string[] {
  const out: string[] = [];
  // An explicit stack, children pushed in reverse so they come off in definition order.
  const stack: NodeStatus[] = Object.values(answer.children).reverse();
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.state !== 'FAILED') continue;
    out.push(node.id);
    stack.push(...Object.values(node.children).reverse());
  }
  return out;
}

export function failedNodeInfo(task: TaskView, failedIds: readonly string[]): IdKeyed<FailedNodeInfo> {
  const info = newIdKeyed<FailedNodeInfo>();
  const def = task.definition;
  for (const id of failedIds) {
    const i = def.indexOf(id);
    const retry = def.policies.get(i)?.autoRetry;
    info[id] =
      retry === undefined
        ? {}
        : { node_id: id, auto_retry_times: recordAt(task, i).auto_retry_times, max_auto_retry_times: retry.max_times };
  }
  return info;
}

/** The failed nodes whose auto_retry policy has retries left: the engine will retry them. */
export function autoRetryStatus(info: IdKeyed<FailedNodeInfo>): AutoRetryStatus {
  const waiting = Object.keys(info).filter((id) => {
    const i = info[id];
    return i.max_auto_retry_times !== undefined && i.auto_retry_times! < i.max_auto_retry_times;
  });
  return { exist_auto_retry_nodes: waiting.length > 0, auto_retry_nodes: waiting };
}
