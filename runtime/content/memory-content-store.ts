// A ContentStore in memory: tests, and runs that must not touch disk.
import type { Digest, StreamCodecs } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import { collectVerified } from './verify-blob.ts';

export class MemoryContentStore implements ContentStore {
  private readonly blobs = new Map<Digest, { info: BlobInfo; blob: Blob }>();
  /** The environment's codecs, if not the web ones (a Node run or benchmark may pass Node's). */
  readonly codecs?: StreamCodecs;
  constructor(options: { codecs?: StreamCodecs } = {}) {
    this.codecs = options.codecs;
  }

  async get(digest: Digest): Promise<Blob | undefined> {
    return this.blobs.get(digest)?.blob;
  }
  async info(digest: Digest): Promise<BlobInfo | undefined> {
    return this.blobs.get(digest)?.info;
  }
  async put(expected: { digest: Digest; size?: number }, data: BlobData, options?: PutOptions): Promise<BlobInfo> {
    const existing = this.blobs.get(expected.digest);
    if (existing) {
      options?.alreadyStored?.();
      return existing.info;
    }
    const bytes = await collectVerified(expected, data, options);
    await options?.beforeCommit?.();
    const existingNow = this.blobs.get(expected.digest);
    if (existingNow) return existingNow.info;
    const info = { digest: expected.digest, size: bytes.length, created: Date.now() };
    this.blobs.set(expected.digest, { info, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
    return info;
  }
  async list(): Promise<BlobInfo[]> {
    return [...this.blobs.values()].map((b) => b.info);
  }
  async delete(digest: Digest): Promise<boolean> {
    return this.blobs.delete(digest);
  }
}
