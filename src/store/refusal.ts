/**
 * Turns the table's diagnosis of a refused operation into the message SPEC §2 asks for, naming
 * the node that stands in the way when there is one.
 */
import { diagnose, type MachineOperation, type State } from '../lifecycle/index.js';
import { refused, withArticle, type PipestateError } from '../model/index.js';

const KIND_NEEDS = {
  leaf: 'a leaf (activity, event or gateway)',
  container: 'a pipeline or subprocess',
  root: "the task's root pipeline",
} as const;

const ANCESTORS_NEED = {
  running: 'RUNNING',
  live: 'RUNNING or SUSPENDED',
} as const;

export interface RefusalSite {
  readonly taskId: string;
  readonly nodeId: string;
  readonly kind: string;
  readonly state: State;
  /** the nearest ancestor in the way, and its state */
  readonly blocker?: { readonly id: string; readonly state: State };
  /** an active descendant, for a container's finish */
  readonly activeDescendant?: { readonly id: string; readonly state: State };
}

export function refusal(
  site: RefusalSite,
  op: MachineOperation,
  codes: { ctx: number; anc: number; busy: number; state: number; op: number },
): PipestateError {
  const r = diagnose(codes.ctx, codes.anc, codes.busy, codes.state, codes.op);
  const why = ((): string => {
    switch (r.reason) {
      case 'state':
        return `${op} needs ${r.needs.join(' or ')}`;
      case 'kind':
        return `${op} needs ${KIND_NEEDS[r.needs]}, node is ${withArticle(site.kind)}`;
      // The table blames ancestors only when one is in the way, and descendants only when one is
      // active: the store names it in the site.
      case 'ancestors': {
        const b = site.blocker!;
        return `${op} needs every ancestor ${ANCESTORS_NEED[r.needs]}, ancestor ${b.id} is ${b.state}`;
      }
      case 'descendants': {
        const d = site.activeDescendant!;
        return `${op} needs no descendant RUNNING, READY or SUSPENDED, descendant ${d.id} is ${d.state}`;
      }
    }
  })();
  return refused(op, site.taskId, site.nodeId, site.state, why);
}
