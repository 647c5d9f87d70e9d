/** Shared pieces of the journal suites: durable stores over a port, manual time, whole-state dumps. */
import { Store, type StoreOptions } from '../../src/store/index.js';
import { DEFAULT_DURABILITY, Durability, type DurabilityOptions, type JournalPort } from '../../src/store/journal/index.js';
import { ManualTimers } from './manual-timers.js';

/** Lets promises and their callbacks run (no time passes). */
export const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs due timers and pending callbacks until `p` settles: manual time, moved only as far as needed (0 ms). */
export async function pumped(timers: ManualTimers, p: Promise<unknown>): Promise<void> {
  let done = false;
  const mark = () => {
    done = true;
  };
  p.then(mark, mark);
  while (!done) {
    timers.advance(0);
    await settled();
  }
  await p;
}

export interface Opened {
  readonly store: Store;
  readonly durability: Durability;
  readonly timers: ManualTimers;
  readonly logged: string[];
}

/** A store over `port`, recovered, with manual timers; options override the defaults. */
export async function openOver(port: JournalPort, options: Partial<DurabilityOptions> = {}, store: StoreOptions = {}): Promise<Opened> {
  const timers = new ManualTimers();
  const logged: string[] = [];
  const s = new Store(store);
  const durability = await Durability.open(s, port, s.clock, {
    ...DEFAULT_DURABILITY,
    timers,
    log: (m) => {
      logged.push(m);
    },
    ...options,
  });
  return { store: s, durability, timers, logged };
}

export const PIPELINE = {
  id: 'root',
  kind: 'pipeline' as const,
  children: [
    { id: 'a', kind: 'activity' as const },
    {
      id: 'sub',
      kind: 'subprocess' as const,
      children: [
        { id: 'b', kind: 'activity' as const },
        { id: 'c', kind: 'event' as const, error_ignorable: true },
      ],
    },
  ],
};
