// ByteSources over stored layer tars. A run reads file bytes synchronously (WASI calls are
// synchronous), so bytes are read on demand wherever the platform allows a synchronous read: from
// the blob file in Node (a content store with the `openSync` capability, see FsContentStore), with
// FileReaderSync in dedicated workers. Elsewhere (Service Worker, page) the tar is loaded first.
// A store that keeps no uncompressed tars (browsers) hands out the compressed blob and its seek
// index instead (LayerBytes.seek): the same reads then inflate the 1 MiB span around the bytes asked
// for, kept in a size-bounded cache of spans (SpanCache).
import type { ContentProvider } from '../content/index.ts';
import type { Digest } from '../core/index.ts';
import type { LayerBytes } from '../images/index.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import { BytesPending, type ByteSource } from '../core/index.ts';
import { checkpointFor, decodeSeekIndex, inflateSpan, spanInput, type GzipSeekIndex } from '../layers/index.ts';

/** Inflated spans of gzip layers, least recently used out first, within a byte budget. */
export class SpanCache {
  private readonly spans = new Map<string, Uint8Array>();
  private bytes = 0;
  constructor(private readonly budget = 64 << 20) {}
  get(key: string): Uint8Array | undefined {
    const s = this.spans.get(key);
    if (s) {
      this.spans.delete(key);
      this.spans.set(key, s);
    }
    return s;
  }
  set(key: string, span: Uint8Array): void {
    if (this.spans.has(key)) return;
    this.spans.set(key, span);
    this.bytes += span.length;
    for (const [old, v] of this.spans) {
      if (this.bytes <= this.budget || this.spans.size === 1) break;
      this.spans.delete(old);
      this.bytes -= v.length;
    }
  }
}

/** The spans of this realm (a reused pool worker keeps its hot spans between requests). */
const realmSpans = new SpanCache();
let nextLayerId = 0;

/** The cache key of a layer's spans: its compressed digest, so every run of a realm shares them. */
function spanKey(layer: LayerBytes): string | undefined {
  return layer.digest;
}

/**
 * A ByteSource over a gzip layer through its seek index. `readSync` reads compressed bytes
 * [start, end) synchronously; without it a read of a span not in memory throws BytesPending, whose
 * load() reads (`readAsync`) and inflates it. Reads may come back short at a span's end.
 */
export function seekableGzipSource(
  seek: GzipSeekIndex,
  io: {
    readSync?: (start: number, end: number) => Uint8Array;
    readAsync: (start: number, end: number) => Promise<Uint8Array>;
  },
  cache: SpanCache = realmSpans,
  /** Names the layer in `cache` (its compressed digest): sources of the same layer share spans. */
  key?: string,
): ByteSource {
  const id = `${key ?? `g${nextLayerId++}`}:`;
  const span = (i: number): Uint8Array | undefined => {
    const hit = cache.get(id + i);
    if (hit || !io.readSync) return hit;
    const { start, end } = spanInput(seek, i);
    const bytes = inflateSpan(seek, i, io.readSync(start, end));
    cache.set(id + i, bytes);
    return bytes;
  };
  return {
    read(position, into) {
      if (position >= seek.size) return 0;
      const end = Math.min(seek.size, position + into.length);
      let at = position;
      while (at < end) {
        const i = checkpointFor(seek, at);
        const bytes = span(i);
        if (!bytes) {
          if (at > position) break;
          throw new BytesPending(async () => {
            const { start, end: stop } = spanInput(seek, i);
            cache.set(id + i, inflateSpan(seek, i, await io.readAsync(start, stop)));
          });
        }
        const from = at - seek.checkpoints[i].out;
        const n = Math.min(bytes.length - from, end - at);
        into.set(bytes.subarray(from, from + n), at - position);
        at += n;
      }
      return at - position;
    },
  };
}

async function blobRange(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

/** The whole tar of a layer, in memory (where nothing can be read lazily). */
async function wholeTar(layer: LayerBytes): Promise<Uint8Array> {
  if (!layer.seek) return new Uint8Array(await layer.blob.arrayBuffer());
  const stream = layer.blob.stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    read(position, into) {
      if (position >= bytes.length) return 0;
      const n = Math.min(into.length, bytes.length - position);
      into.set(bytes.subarray(position, position + n));
      return n;
    },
  };
}

interface FileReaderSyncLike {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}
type FileReaderSyncCtor = new () => FileReaderSyncLike;

export function syncBlobSource(blob: Blob, Reader: FileReaderSyncCtor): ByteSource {
  const reader = new Reader();
  return {
    read(position, into) {
      if (position >= blob.size) return 0;
      const end = Math.min(blob.size, position + into.length);
      const buf = new Uint8Array(reader.readAsArrayBuffer(blob.slice(position, end)));
      into.set(buf);
      return buf.length;
    },
  };
}

/** The best ByteSource this platform offers for a layer's bytes. */
export async function blobByteSource(layer: LayerBytes): Promise<ByteSource> {
  const Reader = (globalThis as { FileReaderSync?: FileReaderSyncCtor }).FileReaderSync;
  if (Reader && layer.seek) {
    const reader = new Reader();
    const blob = layer.blob;
    return seekableGzipSource(
      decodeSeekIndex(layer.seek),
      {
        readSync: (start, end) => new Uint8Array(reader.readAsArrayBuffer(blob.slice(start, end))),
        readAsync: (start, end) => blobRange(blob, start, end),
      },
      realmSpans,
      spanKey(layer),
    );
  }
  if (Reader) return syncBlobSource(layer.blob, Reader);
  return bytesSource(await wholeTar(layer));
}

/**
 * Where reads must not block (the Service Worker with JSPI): bytes not in memory throw BytesPending
 * and are loaded in chunks (a tar) or spans (a gzip layer) on demand; never a whole layer.
 */
export function pagedLayerSource(layer: LayerBytes, chunks: BlobChunkCache): ByteSource {
  if (!layer.seek) return pagedBlobSource(layer.blob, chunks);
  const blob = layer.blob;
  return seekableGzipSource(
    decodeSeekIndex(layer.seek),
    { readAsync: (start, end) => blobRange(blob, start, end) },
    realmSpans,
    spanKey(layer),
  );
}

/** A layer's whole tar in memory, once (runtimes with neither synchronous nor suspending reads). */
export async function wholeLayerSource(layer: LayerBytes): Promise<ByteSource> {
  return bytesSource(await wholeTar(layer));
}

/** A content store that can open a blob for synchronous reads (FsContentStore in Node). */
export interface SyncOpenable {
  openSync(digest: Digest): (ByteSource & { close(): void }) | undefined;
}

export function canOpenSync(content: unknown): content is SyncOpenable {
  return typeof (content as Partial<SyncOpenable>)?.openSync === 'function';
}

/**
 * A ByteSourceFactory for `content`: synchronous reads from the blob file where the store offers
 * them (one descriptor per layer, kept open and shared by every run, since blobs are immutable),
 * else blobByteSource. Cold start then costs the same whatever the size of the layers.
 */
export function contentByteSources(content: ContentProvider): ByteSourceFactory {
  if (!canOpenSync(content)) return blobByteSource;
  const open = new Map<string, ByteSource>();
  return async (layer, diffId) => {
    if (layer.seek) return blobByteSource(layer);
    let s = open.get(diffId);
    if (!s) {
      s = content.openSync(diffId as Digest);
      if (!s) return blobByteSource(layer);
      open.set(diffId, s);
    }
    return s;
  };
}

/**
 * Chunks of Blobs read so far, least recently used first out, within a byte budget: the hot file
 * bytes of the images a Service Worker serves.
 */
export class BlobChunkCache {
  private readonly chunks = new Map<string, Uint8Array>();
  private readonly ids = new WeakMap<Blob, number>();
  private nextId = 0;
  private bytes = 0;
  constructor(
    readonly chunkSize = 1 << 20,
    private readonly budget = 64 << 20,
  ) {}

  private key(blob: Blob, index: number): string {
    let id = this.ids.get(blob);
    if (id === undefined) this.ids.set(blob, (id = this.nextId++));
    return `${id}:${index}`;
  }

  /** Chunk `index` of `blob` if it is in memory (and marks it recently used). */
  get(blob: Blob, index: number): Uint8Array | undefined {
    const k = this.key(blob, index);
    const c = this.chunks.get(k);
    if (c) {
      this.chunks.delete(k);
      this.chunks.set(k, c);
    }
    return c;
  }

  async load(blob: Blob, index: number): Promise<void> {
    const k = this.key(blob, index);
    if (this.chunks.has(k)) return;
    const start = index * this.chunkSize;
    const c = new Uint8Array(await blob.slice(start, Math.min(blob.size, start + this.chunkSize)).arrayBuffer());
    if (this.chunks.has(k)) return;
    this.chunks.set(k, c);
    this.bytes += c.length;
    for (const [old, v] of this.chunks) {
      if (this.bytes <= this.budget) break;
      this.chunks.delete(old);
      this.bytes -= v.length;
    }
  }
}

/**
 * A ByteSource over a Blob that cannot be read synchronously: bytes come from `cache`, and a read
 * of bytes not in memory throws BytesPending, whose load() reads the chunks it needs. Reads never
 * load a whole layer, only the chunks a program touches. A read may come back short (up to the first
 * chunk not in memory), as POSIX reads may.
 */
export function pagedBlobSource(blob: Blob, cache: BlobChunkCache): ByteSource {
  const size = cache.chunkSize;
  return {
    read(position, into) {
      if (position >= blob.size) return 0;
      const end = Math.min(blob.size, position + into.length);
      const first = Math.floor(position / size);
      // The first chunk must be in memory; then as many following ones as are (a short read), so a
      // read larger than the cache can still make progress.
      if (!cache.get(blob, first)) throw new BytesPending(() => cache.load(blob, first));
      let at = position;
      while (at < end) {
        const i = Math.floor(at / size);
        const chunk = cache.get(blob, i);
        if (!chunk) break;
        const from = at - i * size;
        const n = Math.min(chunk.length - from, end - at);
        into.set(chunk.subarray(from, from + n), at - position);
        at += n;
      }
      return at - position;
    },
  };
}
