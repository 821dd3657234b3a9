// ByteSources over stored layer tars. A run reads file bytes synchronously (WASI calls are
// synchronous), so bytes are read on demand wherever the platform allows a synchronous read: from
// the blob file in Node (a content store with the `openSync` capability, see FsContentStore), with
// FileReaderSync in dedicated workers. Elsewhere (Service Worker, page) the tar is loaded first.
import type { ContentProvider } from '../content/index.ts';
import type { Digest } from '../core/index.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import type { ByteSource } from '../core/index.ts';

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
