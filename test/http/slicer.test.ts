/** The slicer interleaves jobs with the rest of the event loop; admission bounds them. */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/api/http/admission.js';
import { HEAVY, Slicer, type Job } from '../../src/api/http/slicer.js';

/** A clock that moves 1 ms every time it is read: with a 2 ms budget, a turn runs one or two checkpoints. */
const steppingClock = () => {
  let t = 0;
  return () => ++t;
};

function* counting(name: string, steps: number, log: string[]): Job<string> {
  for (let i = 0; i < steps; i++) {
    log.push(`${name}${i}`);
    yield;
  }
  return name;
}

describe('Slicer', () => {
  it('runs a job a checkpoint or two per turn, letting the event loop run in between', async () => {
    const slicer = new Slicer({ budgetMs: 2, now: steppingClock() });
    const log: string[] = [];
    const done = slicer.run(counting('a', 6, log));
    // Something else the event loop has to do, queued after the job started.
    let other = 0;
    const others = (async () => {
      for (let i = 0; i < 3; i++) {
        await tick();
        log.push(`other${other++}`);
      }
    })();
    expect(await done).toBe('a');
    await others;
    // The other work ran before the job's last checkpoints: the job did not hold the loop.
    expect(log.indexOf('other0')).toBeLessThan(log.indexOf('a5'));
    expect(slicer.turnsRun).toBeGreaterThanOrEqual(3);
  });

  it('shares turns between jobs in rotation', async () => {
    const slicer = new Slicer({ budgetMs: 1000, now: () => 0 });
    const log: string[] = [];
    await Promise.all([slicer.run(counting('a', 3, log)), slicer.run(counting('b', 3, log))]);
    expect(log).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });

  it('a job waiting on a promise takes no turn until it settles', async () => {
    const slicer = new Slicer({ budgetMs: 1000, now: () => 0 });
    const log: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    function* waiting(): Job<void> {
      log.push('w:before');
      yield gate;
      log.push('w:after');
    }
    const w = slicer.run(waiting());
    await slicer.run(counting('c', 3, log));
    expect(log).toEqual(['w:before', 'c0', 'c1', 'c2']);
    expect(slicer.pending).toBe(0);
    open();
    await w;
    expect(log.at(-1)).toBe('w:after');
  });

  it('start runs a first slice at once: a light job ends there; a heavy one stops at its budget or at HEAVY, and run goes on from there', async () => {
    // Each checkpoint of these jobs takes 1 ms of a clock they move themselves.
    let t = 0;
    const slicer = new Slicer({ budgetMs: 3, now: () => t });
    const log: string[] = [];
    function* work(name: string, steps: number): Job<string> {
      for (let i = 0; i < steps; i++) {
        t++;
        log.push(`${name}${i}`);
        yield;
      }
      return name;
    }
    expect(slicer.start(work('light', 1))).toEqual({ done: true, value: 'light' });
    // The first slices of one turn share its 3 ms: light took 1, heavy gets the other 2.
    const heavy = work('heavy', 10);
    const first = slicer.start(heavy);
    expect(first.done).toBe(false);
    expect(log.filter((l) => l.startsWith('heavy'))).toHaveLength(2);
    // Nothing is left in this turn: the next first slice gets one checkpoint.
    expect(slicer.start(work('late', 5)).done).toBe(false);
    expect(log.filter((l) => l.startsWith('late'))).toHaveLength(1);
    expect(await slicer.run(heavy, first.done ? undefined : first.waiting)).toBe('heavy');
    expect(log.filter((l) => l.startsWith('heavy'))).toHaveLength(10);
    // A new turn: the whole budget again.
    slicer.start(work('fresh', 10));
    expect(log.filter((l) => l.startsWith('fresh'))).toHaveLength(3);
    function* marked(): Job<string> {
      log.push('before');
      yield HEAVY;
      log.push('after');
      return 'marked';
    }
    const m = marked();
    const stopped = new Slicer({ budgetMs: 1000, now: () => 0 }).start(m);
    expect(stopped).toEqual({ done: false, waiting: HEAVY });
    expect(log.at(-1)).toBe('before');
    expect(await slicer.run(m, HEAVY)).toBe('marked');
  });

  it('a job that throws rejects its promise, and the others go on', async () => {
    const slicer = new Slicer();
    function* failing(): Job<void> {
      yield;
      throw new Error('boom');
    }
    const log: string[] = [];
    const [f, c] = await Promise.allSettled([slicer.run(failing()), slicer.run(counting('c', 2, log))]);
    expect(f).toMatchObject({ status: 'rejected', reason: { message: 'boom' } });
    expect(c).toMatchObject({ status: 'fulfilled', value: 'c' });
  });
});

describe('Admission', () => {
  it('admits `concurrency` at once, queues `queue` more in order, refuses the rest', async () => {
    const a = new Admission({ concurrency: 2, queue: 1, retryAfterSeconds: 1 });
    const r1 = await a.enter()!;
    const r2 = await a.enter()!;
    const third = a.enter();
    expect(third).toBeDefined();
    expect(a.enter()).toBeUndefined();
    expect([a.inProgress, a.queued]).toEqual([2, 1]);
    r1();
    r1(); // twice is harmless
    const r3 = await third!;
    expect([a.inProgress, a.queued]).toEqual([2, 0]);
    r2();
    r3();
    expect(a.inProgress).toBe(0);
  });

  it('refuses nonsense settings', () => {
    expect(() => new Admission({ concurrency: 0, queue: 1, retryAfterSeconds: 1 })).toThrow(/concurrency/);
    expect(() => new Admission({ concurrency: 1, queue: -1, retryAfterSeconds: 1 })).toThrow(/queue/);
  });
});
