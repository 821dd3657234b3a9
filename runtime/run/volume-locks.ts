// Locks that serialize runs writing the same volume, so concurrent requests lose no update. In a
// browser the Web Locks API spans every tab, worker and the Service Worker of the origin. In Node
// the default is an in-process queue per name, which serializes the runs of one process only; the
// CLI passes lock files in its store instead (file-locks.ts), which span every berth process on
// the machine. Names are taken in sorted order, so two runs that mount the same volumes cannot
// deadlock.
export type LockFn = <T>(names: string[], fn: () => Promise<T>) => Promise<T>;

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export function webLocks(locks: LockManagerLike): LockFn {
  return <T>(names: string[], fn: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const take = (i: number): Promise<T> => (i === sorted.length ? fn() : locks.request(sorted[i], () => take(i + 1)));
    return take(0);
  };
}

export function processLocks(): LockFn {
  const tails = new Map<string, Promise<unknown>>();
  const one = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return run;
  };
  return <T>(names: string[], fn: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const take = (i: number): Promise<T> => (i === sorted.length ? fn() : one(sorted[i], () => take(i + 1)));
    return take(0);
  };
}

let shared: LockFn | undefined;

/** The best lock for this platform: Web Locks where they exist, else one in-process queue. */
export function defaultLocks(): LockFn {
  if (!shared) {
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    shared = locks ? webLocks(locks) : processLocks();
  }
  return shared;
}

export function volumeLockName(volume: string): string {
  return `berth-volume:${volume}`;
}
