import { describe, expect, it } from 'vitest';
import { FifoLocks, WantsChannel } from './fifo-locks.ts';
import { leasedLocks, webLocks } from './volume-locks.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leasedLocks', () => {
  it('keeps a lock between runs in a row: one request for many runs, released once idle', async () => {
    const manager = new FifoLocks();
    const lock = leasedLocks(manager, { idleMs: 30, maxMs: 10_000 });
    for (let i = 0; i < 5; i++) await lock(['v'], async () => i);
    expect(manager.requests).toBe(1);
    expect(manager.log).toEqual(['grant v']);
    await sleep(60);
    expect(manager.log).toEqual(['grant v', 'release v']);
    await lock(['v'], async () => 0);
    expect(manager.requests).toBe(2);
  });

  it('runs one at a time under a lock, in order, and a failed run does not stop the next', async () => {
    const lock = leasedLocks(new FifoLocks(), { idleMs: 5, maxMs: 10_000 });
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const runs = Array.from({ length: 10 }, (_, i) =>
      lock(['v'], async () => {
        inside++;
        most = Math.max(most, inside);
        await sleep(1);
        order.push(i);
        inside--;
        if (i === 3) throw new Error('trap');
        return i;
      }),
    );
    const results = await Promise.allSettled(runs);
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results[3].status).toBe('rejected');
    expect(results[4]).toEqual({ status: 'fulfilled', value: 4 });
  });

  it('gives the lock up after maxMs even while busy, and another context that asked meanwhile gets it next', async () => {
    const manager = new FifoLocks();
    let t = 0;
    // Idle for a minute: only maxMs can end the lease within the test's time.
    const sw = leasedLocks(manager, { idleMs: 60_000, maxMs: 50, now: () => t });
    const other = webLocks(manager);
    const seen: string[] = [];
    // The SW holds the lock; another context (a window's worker) asks for it.
    await sw(['v'], async () => seen.push('sw 1'));
    const waiting = other(['v'], async () => seen.push('worker'));
    await sw(['v'], async () => seen.push('sw 2')); // still the SW's lease: the worker waits
    expect(seen).toEqual(['sw 1', 'sw 2']);
    t = 60; // the lease is older than maxMs: the next run asks again, behind the worker
    await sw(['v'], async () => seen.push('sw 3'));
    await waiting;
    expect(seen).toEqual(['sw 1', 'sw 2', 'worker', 'sw 3']);
    expect(manager.log.slice(0, 4)).toEqual(['grant v', 'release v', 'grant v', 'release v']);
  });

  it('lets another context in once idle, and never runs the two at once', async () => {
    const manager = new FifoLocks();
    const sw = leasedLocks(manager, { idleMs: 10, maxMs: 10_000 });
    const other = webLocks(manager);
    let inside = 0;
    let most = 0;
    const body = async () => {
      inside++;
      most = Math.max(most, inside);
      await sleep(2);
      inside--;
    };
    await Promise.all([
      ...Array.from({ length: 6 }, () => sw(['v'], body)),
      ...Array.from({ length: 6 }, () => other(['v'], body)),
      ...Array.from({ length: 6 }, () => sw(['v'], body)),
    ]);
    expect(most).toBe(1);
  });

  it('takes several locks in sorted order and keeps each', async () => {
    const manager = new FifoLocks();
    const lock = leasedLocks(manager, { idleMs: 20, maxMs: 10_000 });
    await lock(['b', 'a'], async () => 1);
    await lock(['a', 'b'], async () => 2);
    expect(manager.log).toEqual(['grant a', 'grant b']);
    expect(manager.requests).toBe(2);
    await sleep(50);
    expect(manager.log.slice(2).sort()).toEqual(['release a', 'release b']);
  });
});

describe('leasedLocks with LockWants', () => {
  it('lets go of an idle lease at once when another context says it waits', async () => {
    const manager = new FifoLocks();
    const channel = new WantsChannel();
    // Idle for a minute and kept a minute: only the other context's word can end the lease.
    const sw = leasedLocks(manager, { idleMs: 60_000, maxMs: 60_000, wants: channel.end() });
    const other = webLocks(manager, channel.end());
    await sw(['v'], async () => 1);
    expect(manager.log).toEqual(['grant v']);
    await other(['v'], async () => 2);
    expect(channel.said).toEqual(['v']);
    expect(manager.log).toEqual(['grant v', 'release v', 'grant v', 'release v']);
  });

  it('ends a busy lease after the run under way: the waiter goes next, a later run of the lease after it', async () => {
    const manager = new FifoLocks();
    const channel = new WantsChannel();
    const sw = leasedLocks(manager, { idleMs: 60_000, maxMs: 60_000, wants: channel.end() });
    const other = webLocks(manager, channel.end());
    const seen: string[] = [];
    const first = sw(['v'], async () => {
      await sleep(20);
      seen.push('sw 1');
    });
    await sleep(1);
    const waiting = other(['v'], async () => seen.push('worker'));
    await sleep(5); // the word has arrived: the lease takes no more runs
    const later = sw(['v'], async () => seen.push('sw 2'));
    await Promise.all([first, waiting, later]);
    expect(seen).toEqual(['sw 1', 'worker', 'sw 2']);
  });

  it('asks once when the lock is free: no word is said, and no second request', async () => {
    const manager = new FifoLocks();
    const channel = new WantsChannel();
    await webLocks(manager, channel.end())(['v'], async () => 1);
    await leasedLocks(manager, { idleMs: 1, maxMs: 10, wants: channel.end() })(['w'], async () => 1);
    expect(manager.requests).toBe(2);
    expect(channel.said).toEqual([]);
  });

  it('two leases that want one lock take turns, neither starved', async () => {
    const manager = new FifoLocks();
    const channel = new WantsChannel();
    const a = leasedLocks(manager, { idleMs: 60_000, maxMs: 60_000, wants: channel.end() });
    const b = leasedLocks(manager, { idleMs: 60_000, maxMs: 60_000, wants: channel.end() });
    const seen: string[] = [];
    let inside = 0;
    const body = (who: string) => async () => {
      inside++;
      expect(inside).toBe(1);
      await sleep(2);
      seen.push(who);
      inside--;
    };
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      runs.push(a(['v'], body('a')), b(['v'], body('b')));
      await sleep(3);
    }
    await Promise.all(runs);
    expect(seen.filter((x) => x === 'a')).toHaveLength(4);
    expect(seen.filter((x) => x === 'b')).toHaveLength(4);
    // b's first run did not wait for all of a's.
    expect(seen.indexOf('b')).toBeLessThan(seen.lastIndexOf('a'));
  }, 10_000);
});

describe('HeldLocks', () => {
  it('hands what runs keep to the next run of the same lease, and a new lease starts empty', async () => {
    const lock = leasedLocks(new FifoLocks(), { idleMs: 10, maxMs: 10_000 });
    const seen: unknown[] = [];
    const run = (value: number) =>
      lock(['a', 'b'], async (held) => {
        seen.push(held?.kept('a')?.get('x'), held?.kept('b')?.get('x'));
        held?.kept('a')?.set('x', value);
        held?.kept('b')?.set('x', -value);
      });
    await run(1);
    await run(2);
    await sleep(40); // idle: both leases end
    await run(3);
    expect(seen).toEqual([undefined, undefined, 1, -1, undefined, undefined]);
  });

  it('gives a lock it does not hold nothing, and plain Web Locks no HeldLocks at all', async () => {
    const manager = new FifoLocks();
    await leasedLocks(manager, { idleMs: 10, maxMs: 10_000 })(['a'], async (held) => {
      expect(held?.kept('a')).toBeInstanceOf(Map);
      expect(held?.kept('b')).toBeUndefined();
    });
    await webLocks(manager)(['a'], async (held) => expect(held).toBeUndefined());
  });
});

describe('leasedLocks.releaseIdle', () => {
  it('lets go of the idle leases at once, except those asked to be kept, and never one in use', async () => {
    const manager = new FifoLocks();
    const lock = leasedLocks(manager, { idleMs: 60_000, maxMs: 60_000 });
    await lock(['a'], async () => 1);
    await lock(['b'], async () => 1);
    let finish!: () => void;
    const busy = lock(['c'], () => new Promise<void>((r) => (finish = r)));
    await sleep(1);
    lock.releaseIdle(['b']);
    await sleep(1);
    expect(manager.log).toEqual(['grant a', 'grant b', 'grant c', 'release a']);
    finish();
    await busy;
    lock.releaseIdle();
    await sleep(1);
    expect(manager.log.slice(4).sort()).toEqual(['release b', 'release c']);
    // A later run asks again.
    await lock(['a'], async () => 1);
    expect(manager.log.at(-1)).toBe('grant a');
  });
});
