// For tests: stand-ins for the browser's Web Locks and for the channel on which contexts say they
// wait for one, shared by the lock and volume tests.
import type { LockManagerLike, LockWants } from './volume-locks.ts';

/**
 * Exclusive locks granted in the order asked, as the Web Locks API does (one manager stands for
 * the browser: several contexts share it). It records every grant and release; with
 * `{ ifAvailable: true }` a lock that is taken (or asked for) gives the callback null at once.
 */
export class FifoLocks implements LockManagerLike {
  readonly log: string[] = [];
  private readonly queues = new Map<string, (() => void)[]>();
  private readonly busy = new Set<string>();
  requests = 0;
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>;
  request<T>(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<T>): Promise<T>;
  request<T>(
    name: string,
    a: { ifAvailable: true } | ((lock: unknown) => Promise<T>),
    b?: (lock: unknown) => Promise<T>,
  ): Promise<T> {
    this.requests++;
    const callback = typeof a === 'function' ? a : b!;
    const free = !this.busy.has(name) && !this.queues.get(name)?.length;
    if (typeof a !== 'function' && a.ifAvailable && !free) return callback(null);
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.busy.add(name);
        this.log.push(`grant ${name}`);
        callback({ name })
          .then(resolve, reject)
          .finally(() => {
            this.log.push(`release ${name}`);
            this.busy.delete(name);
            this.queues.get(name)?.shift()?.();
          });
      };
      if (free) start();
      else this.queues.set(name, [...(this.queues.get(name) ?? []), start]);
    });
  }
}

/** A channel for LockWants between contexts in one test: each context gets its own end. */
export class WantsChannel {
  private readonly ends: { listeners: ((name: string) => void)[] }[] = [];
  readonly said: string[] = [];
  end(): LockWants {
    const mine = { listeners: [] as ((name: string) => void)[] };
    this.ends.push(mine);
    return {
      want: (name) => {
        this.said.push(name);
        // Delivered later, as a BroadcastChannel does, and not to the end that said it.
        setTimeout(() => {
          for (const other of this.ends) if (other !== mine) for (const l of other.listeners) l(name);
        }, 0);
      },
      onWant: (listener) => mine.listeners.push(listener),
    };
  }
}
