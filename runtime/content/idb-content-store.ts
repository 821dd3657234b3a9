// The ContentStore in IndexedDB (page, worker and Service Worker share it).
import { RuntimeError, type Digest } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import type { BerthDb } from './idb-database.ts';
import { collectVerified } from './verify-blob.ts';

export class IdbContentStore implements ContentStore {
  constructor(private readonly db: BerthDb) {}

  async get(digest: Digest): Promise<Blob | undefined> {
    return (await this.db.get('blobs', digest))?.blob;
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
    const record = {
      digest: expected.digest,
      size: bytes.length,
      created: Date.now(),
      blob: new Blob([bytes as Uint8Array<ArrayBuffer>]),
    };
    try {
      await this.db.put('blobs', record);
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
    return had;
  }
}
