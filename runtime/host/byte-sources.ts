// ByteSources over stored layer tars. A run reads file bytes synchronously (WASI calls are
// synchronous), so where the platform can read a Blob synchronously (FileReaderSync, in dedicated
// workers) bytes are read on demand; elsewhere (Service Worker, page, Node) the tar is loaded first.
import type { ByteSource } from '../vfs/index.ts';

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
