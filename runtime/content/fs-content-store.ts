// The ContentStore in a directory (Node): blobs/sha256/<hex>, written to a temp file in the same
// directory and renamed into place only after verification, so a crash leaves no partial blob.
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { digestHex, isDigest, type Digest } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import { collectVerified } from './verify-blob.ts';

export class FsContentStore implements ContentStore {
  private readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, 'blobs', 'sha256');
  }
  private path(digest: Digest): string {
    return join(this.dir, digestHex(digest));
  }
  async get(digest: Digest): Promise<Blob | undefined> {
    if (!(await this.info(digest))) return undefined;
    return openAsBlob(this.path(digest));
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
