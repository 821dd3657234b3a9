import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { sha256, type Digest } from '../core/index.ts';
import { collectGarbage, removeImage } from './gc.ts';
import type { ImageRecord } from './image-record.ts';
import { ImageStore } from './image-store.ts';
import { withLease } from './lease.ts';

const enc = new TextEncoder();

async function blob(store: ImageStore, s: string): Promise<Digest> {
  const b = enc.encode(s);
  return (await store.content.put({ digest: await sha256(b) }, b)).digest;
}

async function image(store: ImageStore, ref: string, layers: Digest[]): Promise<ImageRecord> {
  const digest = await blob(store, `manifest of ${ref}`);
  const configDigest = await blob(store, `config of ${ref}`);
  const record = {
    ref,
    digest,
    mediaType: 'x',
    configDigest,
    size: 0,
    stored: 0,
    platform: { os: 'wasi', architecture: 'wasm' },
    manifest: { schemaVersion: 2, config: { mediaType: 'x', digest: configDigest, size: 0 }, layers: [] },
    config: { architecture: 'wasm', os: 'wasi', rootfs: { type: 'layers', diff_ids: [] } },
    layers: layers.map((d) => ({ digest: d, diffId: d, mediaType: 'x', size: 0 })),
  } as ImageRecord;
  await store.images.put(ref, record);
  await store.layerIndexes.put(layers[0], { entries: [], size: 0 });
  return record;
}

describe('garbage collection', () => {
  it('removing an image frees only the blobs no other image or lease references', async () => {
    const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
    const shared = await blob(store, 'shared layer');
    const onlyA = await blob(store, 'layer of a');
    const a = await image(store, 'a', [onlyA, shared]);
    const b = await image(store, 'b', [shared]);
    const stray = await blob(store, 'stray');
    const result = await removeImage(store, 'a');
    expect(result.image.ref).toBe('a');
    const left = new Set((await store.content.list()).map((x) => x.digest));
    expect(left).toEqual(new Set([shared, b.digest, b.configDigest]));
    expect(left.has(a.digest) || left.has(onlyA) || left.has(stray)).toBe(false);
    expect(result.removedBlobs).toBe(4);
    expect(await store.layerIndexes.get(onlyA)).toBeUndefined();
    expect(await store.layerIndexes.get(shared)).toBeDefined();
  });

  it('keeps blobs a live lease names, and drops expired leases', async () => {
    const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
    const inFlight = await blob(store, 'being pulled');
    await withLease(store, 60_000, async (lease) => {
      await lease.add(inFlight);
      await collectGarbage(store);
      expect(await store.content.info(inFlight)).toBeDefined();
    });
    await store.leases.put('old', { id: 'old', digests: [inFlight], expires: Date.now() - 1 });
    await collectGarbage(store);
    expect(await store.content.info(inFlight)).toBeUndefined();
    expect(await store.leases.keys()).toEqual([]);
  });

  it('sweeps only the digests it is given', async () => {
    const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
    const kept = await image(store, 'a', [await blob(store, 'layer of a')]);
    const [stray, mine] = [await blob(store, 'stray'), await blob(store, 'mine')];
    await store.layerIndexes.put(mine, { entries: [], size: 0 });
    const result = await collectGarbage(store, { only: [mine, kept.digest] });
    expect(result.removedBlobs).toBe(1);
    expect(await store.content.info(stray)).toBeDefined();
    expect(await store.content.info(kept.digest)).toBeDefined();
    expect(await store.content.info(mine)).toBeUndefined();
    expect(await store.layerIndexes.get(mine)).toBeUndefined();
  });

  it('refuses to remove an image that is not there', async () => {
    const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
    await expect(removeImage(store, 'nope')).rejects.toMatchObject({ code: 'not-found' });
  });
});
