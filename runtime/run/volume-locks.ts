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

/**
 * Web Locks kept a moment after use, for a context that runs many requests in a row (the Service
 * Worker): asking for a Web Lock is a round trip to the browser, about 0.4 ms of a /svc request to
 * a service with a volume. A lock is kept `idleMs` after its last run here, and at most `maxMs`
 * from when it was granted: a run that comes later asks again, behind whoever asked meanwhile (Web
 * Locks grant in order), so another context waits at most about `maxMs` plus the runs under way.
 * Runs here under one lock go one at a time, in order. Only the lock is kept: data is still read
 * under it, so a write made by another context while it was not held is seen.
 */
export function leasedLocks(
  locks: LockManagerLike,
  options: { idleMs: number; maxMs: number; now?: () => number },
): LockFn {
  const now = options.now ?? (() => performance.now());
  interface Lease {
    /** The end of the last run queued under it (at first: the grant). */
    tail: Promise<unknown>;
    users: number;
    grantedAt?: number;
    /** No more runs join it: it is released when those under way are done. */
    closing: boolean;
    release?: () => void;
    idle?: ReturnType<typeof setTimeout>;
  }
  const leases = new Map<string, Lease>();
  const end = (name: string, lease: Lease) => {
    lease.closing = true;
    clearTimeout(lease.idle);
    if (leases.get(name) === lease) leases.delete(name);
    lease.release?.();
  };
  const one = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    let lease = leases.get(name);
    if (lease && lease.grantedAt !== undefined && now() - lease.grantedAt >= options.maxMs) {
      // Too old to join: let go of it now if idle, else once its runs are done.
      if (lease.users === 0) end(name, lease);
      else lease.closing = true;
    }
    if (!lease || lease.closing) {
      let granted!: () => void;
      const fresh: Lease = { tail: new Promise<void>((r) => (granted = r)), users: 0, closing: false };
      void locks.request(name, () => {
        fresh.grantedAt = now();
        granted();
        return new Promise<void>((r) => (fresh.release = r));
      });
      leases.set(name, fresh);
      lease = fresh;
    }
    const held = lease;
    held.users++;
    clearTimeout(held.idle);
    const run = held.tail.then(fn);
    held.tail = run.catch(() => undefined);
    const done = () => {
      if (--held.users > 0) return;
      if (held.closing || now() - (held.grantedAt ?? 0) >= options.maxMs) end(name, held);
      else held.idle = setTimeout(() => held.users === 0 && end(name, held), options.idleMs);
    };
    return run.finally(done);
  };
  return <T>(names: string[], fn: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const take = (i: number): Promise<T> => (i === sorted.length ? fn() : one(sorted[i], () => take(i + 1)));
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
