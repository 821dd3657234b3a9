// What a run needs from the store besides volumes: the image record, each layer's index and its
// stored tar (a lazy Blob handle). Content-addressed, so it can be cached by digest and handed
// to a worker with the job (Blobs and typed arrays travel by handle), sparing every fresh worker
// its own store reads.
import type { Digest } from '../core/index.ts';
import type { ImageRecord, ImageStore, LayerBytes } from '../images/index.ts';

export interface ImagePlan {
  image: ImageRecord;
  /** Each layer's packed index (one typed array: cheap to clone into a worker, opened lazily). */
  layers: { diffId: Digest; index: Uint8Array; bytes: LayerBytes }[];
}

export async function loadImagePlan(store: ImageStore, image: ImageRecord): Promise<ImagePlan> {
  return {
    image,
    layers: await Promise.all(
      image.layers.map(async (l) => ({
        diffId: l.diffId,
        index: await store.packedLayerIndex(l.diffId),
        bytes: await store.layerBytes(l),
      })),
    ),
  };
}

/**
 * Plans by manifest digest. Entries are re-checked after `ttlMs` so a removed (and garbage
 * collected) image is not served from stale handles for long; the SW also clears them when blobs
 * are deleted (WebKit cannot read a deleted blob's old handle at all).
 */
export class PlanCache {
  private readonly plans = new Map<string, { plan: Promise<ImagePlan>; at: number }>();
  constructor(private readonly ttlMs = 30_000) {}

  get(store: ImageStore, digest: string, ref?: string): Promise<ImagePlan> {
    const hit = this.plans.get(digest);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.plan;
    const plan = (async () => {
      const image = (await store.byDigest(digest, ref)) ?? (await store.require(digest));
      return loadImagePlan(store, image);
    })();
    plan.catch(() => this.plans.delete(digest));
    this.plans.set(digest, { plan, at: Date.now() });
    return plan;
  }

  forget(digest: string): void {
    this.plans.delete(digest);
  }

  clear(): void {
    this.plans.clear();
  }
}
