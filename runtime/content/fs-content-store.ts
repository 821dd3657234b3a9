// The ContentStore in a directory (Node): blobs/sha256/<hex>, written to a temp file in the same
// directory and renamed into place only after verification, so a crash leaves no partial blob.
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { closeSync, fstatSync, openAsBlob, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex, isDigest, parseDigest, type Digest } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import { collectVerified } from './verify-blob.ts';

/** Synchronous positioned reads of one stored blob (an open file descriptor). */
export interface SyncBlobReader {
  readonly size: number;
  /** Reads at `position` into `into`; returns the count read (0 at the end). */
  read(position: number, into: Uint8Array): number;
  close(): void;
}

export class FsContentStore implements ContentStore {
  private readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, 'blobs', 'sha256');
  }
  private path(digest: Digest): string {
    // Validated here too: whatever a caller passes, no digest names a file outside the store.
    return join(this.dir, digestHex(parseDigest(digest, 'blob digest')));
  }
  async get(digest: Digest): Promise<Blob | undefined> {
    if (!(await this.info(digest))) return undefined;
    return openAsBlob(this.path(digest));
  }
  /**
   * The blob opened for synchronous reads (an optional capability beyond ContentStore: runs read
   * file bytes on demand, and WASI calls are synchronous), or undefined if it is not stored.
   * Blobs are immutable, so the descriptor stays valid even if the blob is deleted meanwhile.
   */
  openSync(digest: Digest): SyncBlobReader | undefined {
    let fd: number;
    try {
      fd = openSync(this.path(digest), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const size = fstatSync(fd).size;
    let open = true;
    return {
      size,
      read(position, into) {
        if (position >= size || into.length === 0) return 0;
        return readSync(fd, into, 0, Math.min(into.length, size - position), position);
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }
  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.path(digest));
      return { digest, size: s.size, created: s.mtimeMs };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  async put(expected: { digest: Digest; size?: number }, data: BlobData, options?: PutOptions): Promise<BlobInfo> {
    const existing = await this.info(expected.digest);
    if (existing) return existing;
    const bytes = await collectVerified(expected, data, options);
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(expected.digest)}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    await writeFile(tmp, bytes);
    await rename(tmp, this.path(expected.digest));
    return (await this.info(expected.digest))!;
  }
  async list(): Promise<BlobInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: BlobInfo[] = [];
    for (const name of names) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue; // skips *.partial leftovers
      const info = await this.info(digest);
      if (info) out.push(info);
    }
    return out;
  }
  async delete(digest: Digest): Promise<boolean> {
    const had = (await this.info(digest)) !== undefined;
    await rm(this.path(digest), { force: true });
    return had;
  }
}
