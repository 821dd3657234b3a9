// Locks that serialize runs writing the same volume, so concurrent requests lose no update. In a
// browser the Web Locks API spans every tab, worker and the Service Worker of the origin. In Node
// the default is an in-process queue per name, which serializes the runs of one process only; the
// CLI passes lock files in its store instead (file-locks.ts), which span every berth process on
// the machine. Names are taken in sorted order, so two runs that mount the same volumes cannot
// deadlock.
export type LockFn = <T>(names: string[], fn: (held?: HeldLocks) => Promise<T>) => Promise<T>;

/**
 * What a lock kept across runs (leasedLocks) carries from one run to the next: a place per lock
 * name for data read or written under it. Since every writer of that data takes the lock, what is
 * kept there stays true for as long as the lease lasts; a new lease starts empty. Plain locks give
 * no HeldLocks (each run reads afresh).
 */
export interface HeldLocks {
  kept(name: string): Map<string, unknown> | undefined;
}

/** The part of the Web Locks API (navigator.locks) used here. */
export interface LockManagerLike {
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>;
  request<T>(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

/**
 * How a context that finds a lock taken tells the others it waits (a BroadcastChannel in
 * browsers): a context keeping that lock between runs (leasedLocks) then lets it go as soon as its
 * runs under way are done, instead of at the end of its lease.
 */
export interface LockWants {
  want(name: string): void;
  onWant(listener: (name: string) => void): void;
}

/** LockWants across every context of the origin: tabs, workers and the Service Worker. */
export function broadcastLockWants(channelName = 'berth-lock-wants'): LockWants {
  const channel = new BroadcastChannel(channelName);
  return {
    want: (name) => channel.postMessage(name),
    onWant: (listener) =>
      channel.addEventListener('message', (e: MessageEvent) => {
        if (typeof e.data === 'string') listener(e.data);
      }),
  };
}

const TAKEN = Symbol('taken');

/**
 * One Web Lock, asked for politely: taken at once if free (one round trip, as a plain request),
 * else the wait is announced on `wants` before queueing for it.
 */
async function request<T>(
  locks: LockManagerLike,
  wants: LockWants | undefined,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!wants) return locks.request(name, fn);
  const now = await locks.request<T | typeof TAKEN>(name, { ifAvailable: true }, (lock) =>
    lock ? fn() : Promise.resolve(TAKEN),
  );
  if (now !== TAKEN) return now;
  wants.want(name);
  return locks.request(name, fn);
}

export function webLocks(locks: LockManagerLike, wants?: LockWants): LockFn {
  return <T>(names: string[], fn: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const take = (i: number): Promise<T> =>
      i === sorted.length ? fn() : request(locks, wants, sorted[i], () => take(i + 1));
    return take(0);
  };
}

/** Locks kept between runs (leasedLocks), with a way to let go of those no run uses now. */
export type LeasedLocks = LockFn & {
  /**
   * Lets go at once of every lock kept idle here, except `keep`. A context calls it before work
   * that may block its thread (a worker's synchronous XHR, a blocking sleep, a long run): its
   * timers and the word of waiters do not reach it then, and a lock it kept idle would hold up
   * whoever waits, even a run that its own blocked work waits for.
   */
  releaseIdle(keep?: readonly string[]): void;
};

/**
 * Web Locks kept a moment after use, for a context that runs many requests in a row (the Service
 * Worker): asking for a Web Lock is a round trip to the browser, about 0.4 ms of a /svc request to
 * a service with a volume. A lock is kept `idleMs` after its last run here, and at most `maxMs`
 * from when it was granted: a run that comes later asks again, behind whoever asked meanwhile (Web
 * Locks grant in order), so another context waits at most about `maxMs` plus the runs under way,
 * and with `wants`, only for the runs under way: a context that finds the lock taken says so, and
 * the lease ends as soon as its runs are done.
 * Runs here under one lock go one at a time, in order. Runs of one lease share its HeldLocks: a
 * volume read or committed by one is handed to the next, which skips reading it. Nothing crosses
 * from one lease to the next, so a write made by another context while the lock was not held here
 * is seen.
 */
export function leasedLocks(
  locks: LockManagerLike,
  options: { idleMs: number; maxMs: number; now?: () => number; wants?: LockWants },
): LeasedLocks {
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
    /** What runs under this lease keep for the next (HeldLocks); dropped with the lease. */
    kept: Map<string, unknown>;
  }
  const leases = new Map<string, Lease>();
  const end = (name: string, lease: Lease) => {
    lease.closing = true;
    clearTimeout(lease.idle);
    if (leases.get(name) === lease) leases.delete(name);
    lease.release?.();
  };
  // Someone else waits: no more runs join the lease, and it ends once those under way are done.
  options.wants?.onWant((name) => {
    const lease = leases.get(name);
    if (!lease) return;
    if (lease.users === 0) end(name, lease);
    else {
      lease.closing = true;
      leases.delete(name);
    }
  });
  const one = <T>(name: string, fn: (lease: Lease) => Promise<T>): Promise<T> => {
    let lease = leases.get(name);
    if (lease && lease.grantedAt !== undefined && now() - lease.grantedAt >= options.maxMs) {
      // Too old to join: let go of it now if idle, else once its runs are done.
      if (lease.users === 0) end(name, lease);
      else lease.closing = true;
    }
    if (!lease || lease.closing) {
      let granted!: () => void;
      const fresh: Lease = {
        tail: new Promise<void>((r) => (granted = r)),
        users: 0,
        closing: false,
        kept: new Map(),
      };
      void request(locks, options.wants, name, () => {
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
    const run = held.tail.then(() => fn(held));
    held.tail = run.catch(() => undefined);
    const done = () => {
      if (--held.users > 0) return;
      if (held.closing || now() - (held.grantedAt ?? 0) >= options.maxMs) end(name, held);
      else held.idle = setTimeout(() => held.users === 0 && end(name, held), options.idleMs);
    };
    return run.finally(done);
  };
  const lock = <T>(names: string[], fn: (held?: HeldLocks) => Promise<T>): Promise<T> => {
    const sorted = [...new Set(names)].sort();
    const got = new Map<string, Lease>();
    const held: HeldLocks = { kept: (name) => got.get(name)?.kept };
    const take = (i: number): Promise<T> =>
      i === sorted.length
        ? fn(held)
        : one(sorted[i], (lease) => {
            got.set(sorted[i], lease);
            return take(i + 1);
          });
    return take(0);
  };
  const releaseIdle = (keep: readonly string[] = []) => {
    for (const [name, lease] of leases)
      if (lease.users === 0 && lease.grantedAt !== undefined && !keep.includes(name)) end(name, lease);
  };
  return Object.assign(lock, { releaseIdle });
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

/**
 * The best lock for this platform: Web Locks where they exist (saying so when one is taken, so a
 * lease elsewhere ends), else one in-process queue.
 */
export function defaultLocks(): LockFn {
  if (!shared) {
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    shared = locks ? webLocks(locks, broadcastLockWants()) : processLocks();
  }
  return shared;
}

export function volumeLockName(volume: string): string {
  return `berth-volume:${volume}`;
}

/** The lock names of the volumes mounted (`volumes` as a service or a run lists them). */
export function volumeLockNames(volumes: readonly { name: string }[]): string[] {
  return volumes.map((v) => volumeLockName(v.name));
}

/**
 * Volume locks for a browser context that runs many requests in a row (the SW, each run worker):
 * kept 10 ms after a run, 50 ms at most, and let go once its runs are done when another context
 * says it waits (leasedLocks).
 */
export function keptVolumeLocks(): LeasedLocks {
  return leasedLocks(navigator.locks, { idleMs: 10, maxMs: 50, wants: broadcastLockWants() });
}
