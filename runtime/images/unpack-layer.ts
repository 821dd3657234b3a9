// Unpacking a layer, in one pass over its bytes: the compressed blob is decompressed as a stream and
// split between the content store (which hashes it and commits it under the config's diff_id only
// if the bytes match) and the tar indexer; the index is stored only after both succeed. Run files
// then read their bytes straight out of that tar at (offset, size), so nothing is extracted file
// by file. Words: the "budget" is what one image may still unpack in all (a per-image size cap).
//
// At pull time (`storeLayer`) that pass is the download itself: the bytes as they arrive are split
// between the store's write of the compressed blob and the decompressor, so a layer is read once,
// never held whole (on the Node fs store), and the uncompressed tar is committed only once the
// compressed blob it came from is verified. Hashing and gunzip are the store's environment's
// (`ContentStore.codecs`: node:crypto and node:zlib in Node; WebCrypto and DecompressionStream
// elsewhere). `unpackLayer` does the same from a blob already stored.
import {
  layerCompression,
  RuntimeError,
  webCodecs,
  type Descriptor,
  type Digest,
  type StreamCodecs,
} from '../core/index.ts';
import {
  checkpointingGunzip,
  decompressLayer,
  encodeSeekIndex,
  indexLayer,
  splitStream,
  streamOfBytes,
} from '../layers/index.ts';
import { streamVerified } from '../content/verify-blob.ts';
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
  /** Gunzip with pako even where DecompressionStream or node:zlib exist (benchmarks, tests). */
  usePako?: boolean;
}

export interface StoreLayerOptions extends UnpackOptions {
  /** Aborting it stops the download and the unpacking; nothing of the layer is committed after. */
  signal?: AbortSignal;
}

/** The layer's index if its diff_id is already unpacked (by another image), counted against the budget. */
async function knownIndex(
  store: ImageStore,
  layer: { digest: Digest },
  diffId: Digest,
  options: UnpackOptions,
): Promise<LayerIndex | undefined> {
  const known = await store.layerIndexes.get(diffId);
  if (!known || 'seek' in known) return undefined;
  if (!(await store.content.info(diffId)) && !(await store.seekIndex({ digest: layer.digest, diffId })))
    return undefined;
  options.budget?.take(known.size, layer.digest);
  if ('packed' in known) return decodeLayerIndex(known.packed);
  // Stored by an older berth: store it packed now, as requests read it.
  await store.layerIndexes.put(diffId, packLayerIndex(known));
  return known;
}

/** Unpacks and indexes a layer whose compressed blob is in the store. */
export async function unpackLayer(
  store: ImageStore,
  layer: { digest: Digest; mediaType: string },
  diffId: Digest,
  options: UnpackOptions = {},
): Promise<LayerIndex> {
  const known = await knownIndex(store, layer, diffId, options);
  if (known) return known;
  // The uncompressed tar is already stored (an uncompressed layer, or an interrupted earlier
  // unpack): the store verified it when it was written, so only index it.
  const stored = await store.content.get(diffId);
  const compressed = stored ? undefined : await store.content.get(layer.digest);
  if (!stored && !compressed) throw new RuntimeError('not-found', `layer ${layer.digest} is not in the content store`);
  const unpacked = await unpackStream(
    store,
    layer,
    diffId,
    (stored ?? compressed)!.stream() as ReadableStream<Uint8Array>,
    options,
    { indexOnly: !!stored },
  ).catch((e: unknown) => {
    throw explain(e, layer.digest, diffId);
  });
  return saveIndexes(store, layer.digest, diffId, unpacked);
}

async function saveIndexes(store: ImageStore, digest: Digest, diffId: Digest, unpacked: Unpacked): Promise<LayerIndex> {
  // The seek index first: a layer index under diff_id is what says the layer is unpacked.
  if (unpacked.seek) await store.layerIndexes.put(digest, { seek: unpacked.seek, diffId });
  await store.layerIndexes.put(diffId, packLayerIndex(unpacked.index));
  return unpacked.index;
}

/** What unpacking a layer gives: its index, and the gzip seek index when the tar is not kept. */
interface Unpacked {
  index: LayerIndex;
  seek?: Uint8Array;
}

/** Whether the store reads this layer's tar through a seek index over the compressed blob instead of keeping it. */
function readsThroughSeekIndex(
  store: ImageStore,
  layer: { digest: Digest; mediaType: string },
  diffId: Digest,
): boolean {
  return !store.content.keepsLayerTars && layer.digest !== diffId && layerCompression(layer.mediaType) === 'gzip';
}

/**
 * Stores a layer blob as it arrives (`data`, unverified: a download) and unpacks it in the same
 * pass. RuntimeError 'data-loss' if the blob does not match its descriptor (reported before any
 * error of the unpacking it caused: a tampered blob is a digest mismatch), or its tar not the
 * diff_id; 'resource-exhausted' past a cap. Commits nothing that was not verified.
 */
export async function storeLayer(
  store: ImageStore,
  layer: Descriptor,
  diffId: Digest,
  data: Uint8Array | ReadableStream<Uint8Array>,
  options: StoreLayerOptions = {},
): Promise<LayerIndex> {
  const source = data instanceof Uint8Array ? streamOfBytes(data) : data;
  const blob = { digest: layer.digest, size: layer.size };
  const known = await knownIndex(store, layer, diffId, options).catch(async (e: unknown) => {
    await source.cancel(e).catch(() => {});
    throw e;
  });
  if (known) {
    await store.content.put(blob, source, { signal: options.signal });
    await source.cancel().catch(() => {}); // unread if the blob was stored meanwhile
    return known;
  }
  // Everything stops when the blob fails or the caller aborts; only the unpacking when it fails.
  const all = new AbortController();
  const unpack = new AbortController();
  const stopAll = (reason: unknown) => all.abort(reason);
  if (options.signal?.aborted) stopAll(options.signal.reason);
  options.signal?.addEventListener('abort', () => stopAll(options.signal!.reason), { once: true });
  all.signal.addEventListener('abort', () => unpack.abort(all.signal.reason), { once: true });

  let index: Unpacked;
  if (layer.digest === diffId) {
    // An uncompressed layer is its own tar: one write, indexed as it is written.
    index = await unpackStream(store, layer, diffId, source, options, {
      size: layer.size,
      signal: all.signal,
    }).catch((e: unknown) => {
      throw explain(e, layer.digest, diffId);
    });
  } else {
    const split = splitStream(source, 2, { signal: all.signal });
    const [toStore, toUnpack] = split.branches;
    const storing = store.content.put(blob, toStore, { signal: all.signal }).then(
      (info) => {
        split.drop(0); // it may have been stored meanwhile, its stream left unread
        return info;
      },
      (e: unknown) => {
        stopAll(e);
        throw e;
      },
    );
    // A corrupt stream may be a blob that does not match its digest: let the store's write finish
    // and say so. Anything else (a cap, a hostile tar) stops the download at once.
    const unpackFailed = (e: unknown) => {
      if (!(e instanceof RuntimeError && e.code === 'data-loss')) stopAll(e);
    };
    const unpacking = unpackStream(store, layer, diffId, toUnpack, options, {
      signal: unpack.signal,
      beforeCommit: async () => {
        // The whole tar is in: what the decompressor left unread (nothing, or bytes after the end of
        // the gzip stream) cannot hold the blob's write back while the tar waits for it.
        split.drop(1);
        await storing;
      },
      failed: unpackFailed,
    }).then(
      (idx) => {
        split.drop(1); // (when the tar was stored already, beforeCommit did not run)
        return idx;
      },
      (e: unknown) => {
        split.drop(1, e);
        unpackFailed(e);
        throw e;
      },
    );
    const [stored, unpacked] = await Promise.allSettled([storing, unpacking]);
    if (stored.status === 'rejected') throw explain(stored.reason, layer.digest, diffId);
    if (unpacked.status === 'rejected') throw explain(unpacked.reason, layer.digest, diffId);
    index = unpacked.value;
  }
  return saveIndexes(store, layer.digest, diffId, index);
}

/**
 * Decompresses `compressed` (unless `indexOnly`: it is the stored tar), stores the tar under
 * `diffId` (verified) and indexes it, both from one pass with the caps counted as it goes.
 */
async function unpackStream(
  store: ImageStore,
  layer: { digest: Digest; mediaType: string },
  diffId: Digest,
  compressed: ReadableStream<Uint8Array>,
  options: UnpackOptions,
  how: {
    indexOnly?: boolean;
    size?: number;
    signal?: AbortSignal;
    beforeCommit?: () => Promise<void>;
    /** Told of the first failure at once (before the store's write has cleaned up). */
    failed?: (e: unknown) => void;
  },
): Promise<Unpacked> {
  const maxSize = options.maxLayerSize ?? UnpackDefaults.maxLayerSize;
  const budget = options.budget ?? new UnpackBudget();
  let seen = 0;
  const cap = (chunk: Uint8Array) => {
    seen += chunk.length;
    if (seen > maxSize)
      throw new RuntimeError(
        'resource-exhausted',
        `layer ${layer.digest} unpacks to more than its limit of ${maxSize} bytes`,
      );
    budget.take(chunk.length, layer.digest);
  };
  if (!how.indexOnly && readsThroughSeekIndex(store, layer, diffId)) {
    return unpackSeekable(store, layer, diffId, compressed, maxSize, cap, budget, how);
  }
  const tar =
    how.indexOnly || layer.digest === diffId
      ? compressed
      : decompressLayer(compressed, layer.mediaType, {
          usePako: options.usePako,
          codecs: store.content.codecs ?? webCodecs,
        });
  if (how.indexOnly) {
    const [only] = splitStream(tar, 1, { inspect: cap, signal: how.signal }).branches;
    return { index: await indexLayer(only, { maxSize }) };
  }
  // A tar stored already under this diff_id (a wasm artifact's layer, an earlier pull): the store
  // does not write it again, so it would not check the arriving one. Its index, kept under that
  // diff_id, is every later image's view of the layer: a hostile image naming a public layer's
  // diff_id over a tar of its own made every image with that layer show its files. The arriving tar
  // is hashed here, and the stored one is indexed.
  if (await store.content.info(diffId)) {
    const [checked] = splitStream(tar, 1, { inspect: cap, signal: how.signal }).branches;
    await streamVerified(
      { digest: diffId, size: how.size },
      checked,
      (store.content.codecs ?? webCodecs).sha256(),
      () => {},
    );
    await how.beforeCommit?.();
    return indexStoredTar(store, layer, diffId, () => {}, maxSize, how.signal);
  }
  // If indexing fails, the store's half must stop too (and commit nothing), and vice versa.
  const abort = new AbortController();
  how.signal?.addEventListener('abort', () => abort.abort(how.signal!.reason), { once: true });
  if (how.signal?.aborted) abort.abort(how.signal.reason);
  abort.signal.addEventListener('abort', () => how.failed?.(abort.signal.reason), { once: true });
  const capped = (chunk: Uint8Array) => {
    try {
      cap(chunk);
    } catch (e) {
      abort.abort(e);
      throw e;
    }
  };
  const [toStore, toIndex] = splitStream(tar, 2, { inspect: capped, signal: abort.signal }).branches;
  const indexing = indexLayer(toIndex, { maxSize }).catch((e: unknown) => {
    abort.abort(e);
    throw e;
  });
  let unverified = false;
  const storing = store.content
    .put({ digest: diffId, size: how.size }, toStore, {
      signal: abort.signal,
      beforeCommit: how.beforeCommit,
      alreadyStored: () => {
        unverified = true;
      },
    })
    .then(
      // Stored already (by another pull meanwhile): its half was left unread; the indexer goes on alone.
      () => toStore.cancel().catch(() => {}),
      (e: unknown) => {
        abort.abort(e);
        throw e;
      },
    );
  const [stored, index] = await Promise.allSettled([storing, indexing]);
  if (stored.status === 'fulfilled' && unverified) {
    // Stored meanwhile by another pull: what was indexed here was never checked (see above).
    return indexStoredTar(store, layer, diffId, (chunk) => void chunk, maxSize, how.signal);
  }
  // A cap or corrupt-stream error reaches both halves; report the first cause.
  const failed = abort.signal.aborted
    ? { reason: abort.signal.reason }
    : [stored, index].find((r) => r.status === 'rejected');
  if (failed) throw (failed as { reason: unknown }).reason;
  return { index: (index as PromiseFulfilledResult<LayerIndex>).value };
}

/** Indexes the tar the store holds under `diffId` (verified when it was written). */
async function indexStoredTar(
  store: ImageStore,
  layer: { digest: Digest },
  diffId: Digest,
  cap: (chunk: Uint8Array) => void,
  maxSize: number,
  signal?: AbortSignal,
): Promise<Unpacked> {
  const stored = await store.content.get(diffId);
  if (!stored) throw new RuntimeError('not-found', `layer ${layer.digest}: its tar ${diffId} left the content store`);
  const [only] = splitStream(stored.stream() as ReadableStream<Uint8Array>, 1, { inspect: cap, signal }).branches;
  return { index: await indexLayer(only, { maxSize }) };
}

/**
 * The same pass for a store that keeps no uncompressed tars: the gzip is inflated with checkpoints
 * (its seek index), the tar hashed against the diff_id and indexed, and nothing of it is written.
 * The result counts only once the compressed blob is verified (`beforeCommit`). Where the store has
 * a `gzipUnpacker` (the page: a dedicated worker per layer), that work runs there, off the thread
 * that pulls; the per-layer cap goes with it and the image's budget is counted when it is done.
 */
async function unpackSeekable(
  store: ImageStore,
  layer: { digest: Digest; mediaType: string },
  diffId: Digest,
  compressed: ReadableStream<Uint8Array>,
  maxSize: number,
  cap: (chunk: Uint8Array) => void,
  budget: UnpackBudget,
  how: { signal?: AbortSignal; beforeCommit?: () => Promise<void>; failed?: (e: unknown) => void },
): Promise<Unpacked> {
  try {
    let unpacked: Unpacked & { seek: Uint8Array };
    if (store.gzipUnpacker) {
      const [input] = splitStream(compressed, 1, { signal: how.signal }).branches;
      const limit = Math.min(maxSize, budget.max - budget.used);
      unpacked = await store.gzipUnpacker(input, { diffId, maxSize: limit });
      budget.take(unpacked.index.size, layer.digest);
    } else {
      unpacked = await inflateAndIndex(compressed, {
        diffId,
        maxSize,
        sha256: (store.content.codecs ?? webCodecs).sha256,
        inspect: cap,
        signal: how.signal,
      });
    }
    await how.beforeCommit?.();
    return unpacked;
  } catch (e) {
    how.failed?.(e);
    throw e;
  }
}

/**
 * Inflates a gzip layer with checkpoints, hashes its tar (RuntimeError 'data-loss' unless it is
 * `diffId`) and indexes it (caps: `maxSize`, and `inspect` sees each chunk of tar first).
 */
export async function inflateAndIndex(
  compressed: ReadableStream<Uint8Array>,
  job: {
    diffId: Digest;
    maxSize: number;
    sha256: StreamCodecs['sha256'];
    inspect?: (chunk: Uint8Array) => void;
    signal?: AbortSignal;
  },
): Promise<{ index: LayerIndex; seek: Uint8Array }> {
  const gunzip = checkpointingGunzip(compressed);
  const hash = job.sha256();
  const [tar] = splitStream(gunzip.output, 1, {
    inspect: (chunk) => {
      job.inspect?.(chunk);
      hash.update(chunk);
    },
    signal: job.signal,
  }).branches;
  const index = await indexLayer(tar, { maxSize: job.maxSize });
  const actual = await hash.digest();
  if (actual !== job.diffId) {
    throw new RuntimeError(
      'data-loss',
      `the layer's tar hashes to ${actual}, not its diff_id ${job.diffId}; refusing it`,
    );
  }
  return { index, seek: encodeSeekIndex(gunzip.index()) };
}

function explain(e: unknown, layer: Digest, diffId: Digest): unknown {
  if (!(e instanceof RuntimeError) || e.message.includes(layer)) return e;
  return new RuntimeError(e.code, `layer ${layer} (diff_id ${diffId}): ${e.message}`, { cause: e });
}
