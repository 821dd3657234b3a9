// Garbage collection: a pure mark over what image records and live leases reference, then a sweep
// of every other blob and layer index.
import type { Digest } from '../core/index.ts';
import type { ImageRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import type { Lease } from './lease.ts';

export function markReferenced(images: ImageRecord[], leases: Lease[], now = Date.now()): Set<Digest> {
  const live = new Set<Digest>();
  for (const img of images) {
    live.add(img.digest);
    if (img.indexDigest) live.add(img.indexDigest);
    if (img.artifactConfigDigest) live.add(img.artifactConfigDigest);
    live.add(img.configDigest);
    for (const l of img.layers) {
      live.add(l.digest);
      live.add(l.diffId);
    }
  }
  for (const lease of leases) if (lease.expires > now) for (const d of lease.digests) live.add(d);
  return live;
}

export interface GcResult {
  removedBlobs: number;
  freedBytes: number;
}

export async function collectGarbage(store: ImageStore): Promise<GcResult> {
  const leases = (await Promise.all((await store.leases.keys()).map((k) => store.leases.get(k)))).filter(
    (l): l is Lease => !!l,
  );
  for (const l of leases) if (l.expires <= Date.now()) await store.leases.delete(l.id);
  const live = markReferenced(await store.list(), leases);
  let removedBlobs = 0;
  let freedBytes = 0;
  for (const blob of await store.content.list()) {
    if (live.has(blob.digest)) continue;
    if (await store.content.delete(blob.digest)) {
      removedBlobs++;
      freedBytes += blob.size;
    }
  }
  for (const key of await store.layerIndexes.keys()) if (!live.has(key as Digest)) await store.layerIndexes.delete(key);
  return { removedBlobs, freedBytes };
}

/** Removes an image record, then every blob no other image needs. */
export async function removeImage(store: ImageStore, ref: string): Promise<GcResult & { image: ImageRecord }> {
  const image = await store.require(ref);
  await store.images.delete(image.ref);
  return { image, ...(await collectGarbage(store)) };
}
