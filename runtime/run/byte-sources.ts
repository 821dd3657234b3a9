// ByteSources over stored layer tars. A run reads file bytes synchronously (WASI calls are
// synchronous), so bytes are read on demand wherever the platform allows a synchronous read: from
// the blob file in Node (a content store with the `openSync` capability, see FsContentStore), with
// FileReaderSync in dedicated workers. Elsewhere (Service Worker, page) the tar is loaded first.
import type { ContentProvider } from '../content/index.ts';
import type { Digest } from '../core/index.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import { BytesPending, type ByteSource } from '../core/index.ts';

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

/** The best ByteSource this platform offers for `blob`. */
export async function blobByteSource(blob: Blob): Promise<ByteSource> {
  const Reader = (globalThis as { FileReaderSync?: FileReaderSyncCtor }).FileReaderSync;
  if (Reader) return syncBlobSource(blob, Reader);
  return bytesSource(new Uint8Array(await blob.arrayBuffer()));
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
  return async (blob, diffId) => {
    let s = open.get(diffId);
    if (!s) {
      s = content.openSync(diffId as Digest);
      if (!s) return blobByteSource(blob);
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
