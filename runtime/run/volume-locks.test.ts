import { describe, expect, it } from 'vitest';
import { leasedLocks, webLocks } from './volume-locks.ts';

/**
 * Exclusive locks granted in the order asked, as the Web Locks API does (one manager stands for
 * the browser: several contexts share it). It records every grant and release.
 */
class FifoLocks {
  readonly log: string[] = [];
  private readonly queues = new Map<string, (() => void)[]>();
  private readonly busy = new Set<string>();
  requests = 0;
  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.busy.add(name);
        this.log.push(`grant ${name}`);
        callback()
          .then(resolve, reject)
          .finally(() => {
            this.log.push(`release ${name}`);
            this.busy.delete(name);
            this.queues.get(name)?.shift()?.();
          });
      };
      if (!this.busy.has(name) && !this.queues.get(name)?.length) start();
      else this.queues.set(name, [...(this.queues.get(name) ?? []), start]);
    });
  }
}

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
