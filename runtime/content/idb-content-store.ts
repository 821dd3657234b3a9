// The ContentStore in IndexedDB (page, worker and Service Worker share it).
import { RuntimeError, type Digest } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import type { BerthDb, StoredBlob } from './idb-database.ts';
import { collectVerified } from './verify-blob.ts';

/**
 * WebKit's ephemeral sessions (a Safari private window; WebKitGTK under WebDriver) refuse Blobs in
 * IndexedDB: the put fails with UnknownError "Error preparing Blob/File data to be stored in object
 * store". There the store keeps the bytes as an ArrayBuffer in a table of their own (`blob-bytes`,
 * so `blobs` stays metadata that info() and list() read cheaply), found by trying, once per
 * database: a read then holds the blob's bytes in memory rather than reading it lazily from disk.
 */
const refusesBlobs = new WeakMap<BerthDb, boolean>();

export function isBlobRefusal(e: unknown): boolean {
  // WebKit's words exactly: a transient disk error elsewhere must not switch the database to bytes.
  return e instanceof DOMException && e.name === 'UnknownError' && /preparing Blob\/File data/i.test(e.message);
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
    const stored = await this.db.get('blobs', digest);
    if (!stored?.inBytesTable) return stored?.blob;
    const bytes = await this.db.get('blob-bytes', digest);
    return bytes && new Blob([bytes]);
  }
  async info(digest: Digest): Promise<BlobInfo | undefined> {
    const b = await this.db.get('blobs', digest);
    return b && { digest: b.digest, size: b.size, created: b.created };
  }
  async put(expected: { digest: Digest; size?: number }, data: BlobData, options?: PutOptions): Promise<BlobInfo> {
    const existing = await this.info(expected.digest);
    if (existing) {
      options?.alreadyStored?.();
      return existing;
    }
    const bytes = await collectVerified(expected, data, options);
    await options?.beforeCommit?.();
    const record: StoredBlob = { digest: expected.digest, size: bytes.length, created: Date.now() };
    const putBytes = async () => {
      const tx = this.db.transaction(['blobs', 'blob-bytes'], 'readwrite');
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      await Promise.all([
        tx.objectStore('blob-bytes').put((own ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer, expected.digest),
        tx.objectStore('blobs').put({ ...record, inBytesTable: true }),
        tx.done,
      ]);
    };
    try {
      if (refusesBlobs.get(this.db)) await putBytes();
      else {
        try {
          await this.db.put('blobs', { ...record, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
        } catch (e) {
          if (!isBlobRefusal(e)) throw e;
          refusesBlobs.set(this.db, true);
          await putBytes();
        }
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
    const tx = this.db.transaction(['blobs', 'blob-bytes'], 'readwrite');
    const blobs = tx.objectStore('blobs');
    const had = (await blobs.getKey(digest)) !== undefined;
    if (had) await Promise.all([blobs.delete(digest), tx.objectStore('blob-bytes').delete(digest)]);
    await tx.done;
    if (had && typeof BroadcastChannel === 'function') {
      const channel = new BroadcastChannel(BLOB_DELETIONS_CHANNEL);
      channel.postMessage({ type: 'berth:blobs-deleted', digests: [digest] });
      channel.close();
    }
    return had;
  }
}
