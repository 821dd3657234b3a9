// Hostile layers through unpackLayer: bombs under the layer cap and the image budget, and cut
// archives, each refused with nothing stored (no blob under the diff_id, no index).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords } from '../../runtime/content/index.ts';
import { MediaType, sha256 } from '../../runtime/core/index.ts';
import { ImageStore } from '../../runtime/images/image-store.ts';
import { UnpackBudget, unpackLayer } from '../../runtime/images/unpack-layer.ts';
import { writeTar } from '../../runtime/layers/index.ts';
import { rejectsWithCode, zstdRaw } from '../suites/layer-helpers.ts';

const CAP = 4 << 20;

describe('hostile layers through unpackLayer', () => {
  async function storeWith(blob: Uint8Array | undefined) {
    const content = new MemoryContentStore();
    const store = new ImageStore({ content, records: new MemoryRecords() });
    const digest = blob ? (await content.put({ digest: await sha256(blob) }, blob)).digest : undefined;
    return { content, store, digest };
  }

  it('refuses a stored gzip bomb in unpackLayer (layer cap and image budget), storing nothing', async () => {
    const tar = writeTar([{ path: 'zeros', type: 'file', data: new Uint8Array(32 << 20) }]);
    const gz = new Uint8Array(gzipSync(tar, { level: 1 }));
    for (const opts of [{ maxLayerSize: CAP }, { budget: new UnpackBudget(CAP) }]) {
      const { content, store, digest } = await storeWith(gz);
      const diffId = await sha256(tar);
      const layer = { digest: digest!, mediaType: MediaType.OciLayerGzip };
      expect(await rejectsWithCode(unpackLayer(store, layer, diffId, opts))).toBe('resource-exhausted');
      expect(await content.info(diffId)).toBeUndefined();
      expect(await store.layerIndexes.get(diffId)).toBeUndefined();
    }
  });

  it('refuses truncated gzip, zstd and plain layers as data-loss, storing nothing', async () => {
    const tar = writeTar([{ path: 'f', type: 'file', data: new Uint8Array(100_000).map((_, i) => i * 7) }]);
    const diffId = await sha256(tar);
    const gz = new Uint8Array(gzipSync(tar));
    const cases: [string, Uint8Array][] = [
      [MediaType.OciLayerGzip, gz.subarray(0, gz.length - 9)],
      [MediaType.OciLayerGzip, gz.subarray(0, gz.length >> 1)],
      [MediaType.OciLayer, tar.subarray(0, tar.length - 1024)],
      [MediaType.OciLayer, tar.subarray(0, 700)],
      [MediaType.OciLayerZstd, zstdRaw(tar).subarray(0, 600)],
    ];
    for (const [mediaType, cut] of cases) {
      const { content, store, digest } = await storeWith(new Uint8Array(cut));
      expect(await rejectsWithCode(unpackLayer(store, { digest: digest!, mediaType }, diffId)), mediaType).toBe(
        'data-loss',
      );
      expect(await content.info(diffId)).toBeUndefined();
      expect(await store.layerIndexes.get(diffId)).toBeUndefined();
    }
  });
});
