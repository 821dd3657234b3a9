// Leases protect the blobs of a pull in progress from garbage collection: a lease names digests and
// expires on its own, so a pull killed mid-way protects nothing for long.
import type { RecordStore } from '../content/index.ts';
import type { Digest } from '../core/index.ts';

export interface Lease {
  id: string;
  digests: Digest[];
  /** ms since epoch. */
  expires: number;
}

export async function withLease<T>(
  store: { readonly leases: RecordStore<Lease> },
  ttlMs: number,
  body: (lease: { add(...digests: Digest[]): Promise<void> }) => Promise<T>,
): Promise<T> {
  const lease: Lease = {
    id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`,
    digests: [],
    expires: Date.now() + ttlMs,
  };
  const put = () => store.leases.put(lease.id, lease);
  await put();
  try {
    return await body({
      /** Adds digests to the lease (one write for them all). */
      async add(...digests) {
        const added = digests.filter((d, i) => !lease.digests.includes(d) && digests.indexOf(d) === i);
        if (added.length) {
          lease.digests.push(...added);
          lease.expires = Date.now() + ttlMs;
          await put();
        }
      },
    });
  } finally {
    await store.leases.delete(lease.id);
  }
}
