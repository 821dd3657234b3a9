// Garbage collection: a pure mark over what image records, the images services are pinned to and
// live leases reference, then a sweep of every other blob and layer index.
//
// Roots: every named image; every service's pinned digest, through the image record of that digest
// (a named one, or the pinned record ImageStore keeps when the reference moved: a full collection
// drops pinned records no service is pinned to any more); every digest a live lease names.
//
// Removing an image a service is pinned to is refused (RuntimeError 'failed-precondition', naming
// the services) unless another reference still names the same digest. With `force` the image goes
// anyway, its pinned record too, and its blobs are freed: its services answer 502 until an image
// with that digest is stored again (a pull or load of the same image brings them back).
import { RuntimeError, type Digest } from '../core/index.ts';
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

export interface GcOptions {
  /** Sweep only these digests (blobs and layer indexes), e.g. what a failed ingest stored; pinned records stay. */
  only?: Iterable<Digest>;
  /** Count what a collection would free, and change nothing. */
  dryRun?: boolean;
}

export async function collectGarbage(store: ImageStore, options: GcOptions = {}): Promise<GcResult> {
  const leases = (await Promise.all((await store.leases.keys()).map((k) => store.leases.get(k)))).filter(
    (l): l is Lease => !!l,
  );
  const dry = options.dryRun === true;
  if (!dry) for (const l of leases) if (l.expires <= Date.now()) await store.leases.delete(l.id);
  // Named images before pinned ones: a reference that moves in between pins the old image first.
  const named = await store.list();
  const pinned = await store.pinned();
  const pins = new Set((await store.servicePins()).map((s) => s.imageDigest));
  const roots = [...named];
  for (const image of pinned) {
    if (pins.has(image.digest) || options.only) roots.push(image);
    else if (!dry) await store.images.delete(image.digest);
  }
  const live = markReferenced(roots, leases);
  const only = options.only ? new Set(options.only) : undefined;
  let removedBlobs = 0;
  let freedBytes = 0;
  const candidates = only
    ? (await Promise.all([...only].map((d) => store.content.info(d)))).filter((b) => !!b)
    : await store.content.list();
  for (const blob of candidates) {
    if (live.has(blob.digest)) continue;
    if (dry || (await store.content.delete(blob.digest))) {
      removedBlobs++;
      freedBytes += blob.size;
    }
  }
  if (!dry)
    for (const key of only ? [...only] : await store.layerIndexes.keys())
      if (!live.has(key as Digest)) await store.layerIndexes.delete(key);
  return { removedBlobs, freedBytes };
}

export interface RemoveImageOptions {
  /** Remove it even if services are pinned to it (they answer 502 until the image is stored again). */
  force?: boolean;
}

/**
 * Removes an image record (a reference, or a digest), then every blob no other image needs. Refused
 * if services are pinned to the image and no other reference names it, unless `force` (see above).
 */
export async function removeImage(
  store: ImageStore,
  ref: string,
  options: RemoveImageOptions = {},
): Promise<GcResult & { image: ImageRecord }> {
  const image = await store.require(ref);
  // The key it is stored under: `ref` itself, or for a digest, the name found (or the digest: a pinned record).
  const key = (await store.images.get(ref))?.digest === image.digest ? ref : image.ref;
  const others = (await store.list()).filter((i) => i.digest === image.digest && i.ref !== key);
  const users = others.length ? [] : await store.servicesUsing(image.digest);
  if (users.length && !options.force) {
    const one = users.length === 1;
    throw new RuntimeError(
      'failed-precondition',
      `${ref} (${image.digest}) is in use: ${one ? `service ${users[0]} runs` : `services ${users.join(', ')} run`} it, and would answer 502 until the image is stored again. Delete or rebind ${one ? 'that service' : 'those services'} first, or force the removal`,
    );
  }
  await store.images.delete(key);
  if (!others.length) await store.images.delete(image.digest);
  return { image, ...(await collectGarbage(store)) };
}
