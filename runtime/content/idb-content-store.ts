// The ContentStore in IndexedDB (page, worker and Service Worker share it).
import { RuntimeError, type Digest } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import type { BerthDb, StoredBlob } from './idb-database.ts';
import { collectVerified } from './verify-blob.ts';

/**
 * WebKit's ephemeral sessions (a Safari private window; WebKitGTK under WebDriver) refuse Blobs in
 * IndexedDB: the put fails with UnknownError "Error preparing Blob/File data to be stored in object
 * store". There the store keeps the bytes as an ArrayBuffer instead, found by trying, once per
 * database: reads then hold a blob's bytes in memory rather than reading it lazily from disk.
 */
const refusesBlobs = new WeakMap<BerthDb, boolean>();

export function isBlobRefusal(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'UnknownError' && /blob|file/i.test(e.message);
}

/** Whether `db` keeps Blobs ('blob') or had to fall back to bytes ('bytes'), by storing a tiny one. */
export async function probeBlobStorage(db: BerthDb): Promise<'blob' | 'bytes'> {
  const known = refusesBlobs.get(db);
  if (known !== undefined) return known ? 'bytes' : 'blob';
  try {
    await db.put('settings', new Blob([new Uint8Array(1)]), '__blob-probe');
    await db.delete('settings', '__blob-probe');
    refusesBlobs.set(db, false);
  } catch (e) {
    if (!isBlobRefusal(e)) throw e;
    refusesBlobs.set(db, true);
  }
  return refusesBlobs.get(db) ? 'bytes' : 'blob';
}

/**
 * Deleted blobs are announced here (the digests), to every context of the origin that keeps Blob
 * handles of this database: in WebKit a handle of a deleted record fails to read (NotFoundError),
 * even when it was taken before the delete and the same bytes were stored again since.
 */
export const BLOB_DELETIONS_CHANNEL = 'berth-blob-deletions';

export class IdbContentStore implements ContentStore {
  constructor(private readonly db: BerthDb) {}

  async get(digest: Digest): Promise<Blob | undefined> {
    const stored = (await this.db.get('blobs', digest))?.blob;
    return stored instanceof ArrayBuffer ? new Blob([stored]) : stored;
  }
  async info(digest: Digest): Promise<BlobInfo | undefined> {
    const b = await this.db.get('blobs', digest);
    return b && { digest: b.digest, size: b.size, created: b.created };
  }
  async put(expected: { digest: Digest; size?: number }, data: BlobData, options?: PutOptions): Promise<BlobInfo> {
    const existing = await this.info(expected.digest);
    if (existing) return existing;
    const bytes = await collectVerified(expected, data, options);
    await options?.beforeCommit?.();
    const asBytes = (): ArrayBuffer =>
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.slice().buffer as ArrayBuffer);
    const record: StoredBlob = {
      digest: expected.digest,
      size: bytes.length,
      created: Date.now(),
      blob: refusesBlobs.get(this.db) ? asBytes() : new Blob([bytes as Uint8Array<ArrayBuffer>]),
    };
    try {
      try {
        await this.db.put('blobs', record);
      } catch (e) {
        if (!(record.blob instanceof Blob) || !isBlobRefusal(e)) throw e;
        refusesBlobs.set(this.db, true);
        record.blob = asBytes();
        await this.db.put('blobs', record);
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === 'QuotaExceededError') {
        throw new RuntimeError(
          'resource-exhausted',
          `no storage space left for blob ${expected.digest} (${bytes.length} bytes)`,
          { cause: e },
        );
      }
      throw e;
    }
    return { digest: record.digest, size: record.size, created: record.created };
  }
  async list(): Promise<BlobInfo[]> {
    const all = await this.db.getAll('blobs');
    return all.map((b) => ({ digest: b.digest, size: b.size, created: b.created }));
  }
  async delete(digest: Digest): Promise<boolean> {
    const tx = this.db.transaction('blobs', 'readwrite');
    const had = (await tx.store.getKey(digest)) !== undefined;
    if (had) await tx.store.delete(digest);
    await tx.done;
    if (had && typeof BroadcastChannel === 'function') {
      const channel = new BroadcastChannel(BLOB_DELETIONS_CHANNEL);
      channel.postMessage({ type: 'berth:blobs-deleted', digests: [digest] });
      channel.close();
    }
    return had;
  }
}
