// Unpacking a layer at pull time: decompress, check the result against the config's diff_id, store
// the uncompressed tar as a blob under that diff_id, and store its index. Run files then read their
// bytes straight out of that tar at (offset, size), so nothing is extracted file by file.
import { RuntimeError, sha256, type Digest } from '../core/index.ts';
import { decompressLayer, indexLayer, type LayerIndex } from '../layers/index.ts';
import type { ImageStore } from './image-store.ts';

export interface UnpackOptions {
  /** Cap on one layer's uncompressed size (decompression bombs). Default 4 GiB. */
  maxLayerSize?: number;
}

export async function unpackLayer(
  store: ImageStore,
  layer: { digest: Digest; mediaType: string },
  diffId: Digest,
  options: UnpackOptions = {},
): Promise<LayerIndex> {
  const known = await store.layerIndexes.get(diffId);
  if (known && (await store.content.info(diffId))) return known;
  const compressed = await store.content.get(layer.digest);
  if (!compressed) throw new RuntimeError('not-found', `layer ${layer.digest} is not in the content store`);
  const maxSize = options.maxLayerSize ?? 4 * 2 ** 30;
  const tar = new Uint8Array(await new Response(decompressLayer(compressed.stream(), layer.mediaType)).arrayBuffer());
  if (tar.length > maxSize) {
    throw new RuntimeError('resource-exhausted', `layer ${layer.digest} unpacks to more than ${maxSize} bytes`);
  }
  const actual = await sha256(tar);
  if (actual !== diffId) {
    throw new RuntimeError('data-loss', `layer ${layer.digest} unpacks to ${actual}, but the image config says its diff_id is ${diffId}`);
  }
  await store.content.put({ digest: diffId, size: tar.length }, tar);
  const index = await indexLayer(new Blob([tar as Uint8Array<ArrayBuffer>]).stream(), { maxSize });
  await store.layerIndexes.put(diffId, index);
  return index;
}
