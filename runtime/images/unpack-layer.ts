// Unpacking a layer at pull time, in one pass: the compressed blob is decompressed as a stream and
// teed into the content store (which hashes it and commits it under the config's diff_id only if
// the bytes match) and into the tar indexer; the index is stored only after both succeed. Run files
// then read their bytes straight out of that tar at (offset, size), so nothing is extracted file
// by file. Words: the "budget" is what one image may still unpack in all (a per-image size cap).
//
// The diff_id is checked by the store's own verification (a whole-buffer WebCrypto digest before
// commit) rather than by a second, incremental SHA-256 here: measured on 100 MiB in Node 20, a JS
// incremental SHA-256 ran at ~47 MB/s against ~540 MB/s for crypto.subtle.digest.
import { RuntimeError, type Digest } from '../core/index.ts';
import { decompressLayer, indexLayer } from '../layers/index.ts';
import { decodeLayerIndex } from '../vfs/index.ts';
import { packLayerIndex, type ImageStore } from './image-store.ts';
import type { LayerIndex } from '../core/index.ts';

export const UnpackDefaults = {
  /** 4 GiB uncompressed per layer. */
  maxLayerSize: 4 * 2 ** 30,
  /** 16 GiB uncompressed per image. */
  maxImageSize: 16 * 2 ** 30,
} as const;

/** What one image may still unpack; share one across that image's layers. */
export class UnpackBudget {
  used = 0;
  constructor(readonly max: number = UnpackDefaults.maxImageSize) {}
  take(n: number, layer: Digest): void {
    this.used += n;
    if (this.used > this.max) {
      throw new RuntimeError(
        'resource-exhausted',
        `layer ${layer} takes the image past its limit of ${this.max} bytes uncompressed`,
      );
    }
  }
}

export interface UnpackOptions {
  /** Cap on one layer's uncompressed size (decompression bombs). Default 4 GiB. */
  maxLayerSize?: number;
  /** The image's budget (per-image cap), shared by all its layers. Default: a fresh 16 GiB one. */
  budget?: UnpackBudget;
  /** Gunzip with pako even where DecompressionStream exists (benchmarks, tests). */
  usePako?: boolean;
}

export async function unpackLayer(
  store: ImageStore,
  layer: { digest: Digest; mediaType: string },
  diffId: Digest,
  options: UnpackOptions = {},
): Promise<LayerIndex> {
  const known = await store.layerIndexes.get(diffId);
  if (known && (await store.content.info(diffId))) {
    options.budget?.take(known.size, layer.digest);
    if ('packed' in known) return decodeLayerIndex(known.packed);
    // Stored by an older berth: store it packed now, as requests read it.
    await store.layerIndexes.put(diffId, packLayerIndex(known));
    return known;
  }
  const maxSize = options.maxLayerSize ?? UnpackDefaults.maxLayerSize;
  const budget = options.budget ?? new UnpackBudget();
  const capped = (source: ReadableStream<Uint8Array>) => source.pipeThrough(sizeCap(layer.digest, maxSize, budget));

  // The uncompressed tar is already stored (an uncompressed layer, or an interrupted earlier
  // unpack): the store verified it when it was written, so only index it.
  const stored = await store.content.get(diffId);
  if (stored) {
    const index = await indexLayer(capped(stored.stream()), { maxSize });
    await store.layerIndexes.put(diffId, packLayerIndex(index));
    return index;
  }

  const compressed = await store.content.get(layer.digest);
  if (!compressed) throw new RuntimeError('not-found', `layer ${layer.digest} is not in the content store`);
  const [toStore, toIndex] = capped(
    decompressLayer(compressed.stream(), layer.mediaType, { usePako: options.usePako }),
  ).tee();
  // If indexing fails, the store's half must stop too (and commit nothing), and vice versa.
  const abort = new AbortController();
  const indexing = indexLayer(toIndex, { maxSize }).catch(async (e: unknown) => {
    abort.abort(e);
    await toStore.cancel(e).catch(() => {});
    throw e;
  });
  const storing = store.content.put({ digest: diffId }, toStore, { signal: abort.signal }).catch(async (e: unknown) => {
    await toIndex.cancel(e).catch(() => {});
    throw e;
  });
  const [stored2, index] = await Promise.allSettled([storing, indexing]);
  // A cap or corrupt-stream error reaches both halves; report the first cause, naming the layer.
  const failed = [stored2, index].find((r) => r.status === 'rejected');
  if (failed) throw explain(failed.reason, layer.digest, diffId);
  const idx = (index as PromiseFulfilledResult<LayerIndex>).value;
  await store.layerIndexes.put(diffId, packLayerIndex(idx));
  return idx;
}

/** Counts uncompressed bytes against the layer cap and the image budget. */
function sizeCap(layer: Digest, max: number, budget: UnpackBudget): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>(
    {
      transform(chunk, controller) {
        seen += chunk.length;
        if (seen > max)
          throw new RuntimeError('resource-exhausted', `layer ${layer} unpacks to more than its limit of ${max} bytes`);
        budget.take(chunk.length, layer);
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 1 },
    { highWaterMark: 0 },
  );
}

function explain(e: unknown, layer: Digest, diffId: Digest): unknown {
  if (!(e instanceof RuntimeError) || e.message.includes(layer)) return e;
  return new RuntimeError(e.code, `layer ${layer} (diff_id ${diffId}): ${e.message}`, { cause: e });
}
