// The ContentStore in a directory (Node): blobs/sha256/<hex>, streamed into a temp file in the same
// directory as the bytes arrive (hashed incrementally with node:crypto, never held whole) and
// renamed into place only after verification, so a crash or a mismatch leaves no blob.
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { closeSync, fstatSync, openAsBlob, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex, isDigest, parseDigest, RuntimeError, type Digest } from '../core/index.ts';
import type { BlobData, BlobInfo, ContentStore, PutOptions } from './content-store.ts';
import { nodeCodecs } from './node-codecs.ts';
import { streamVerified } from './verify-blob.ts';

/** Bytes gathered before one write (writev) to the temp file; one write is in flight while the next gathers. */
const WRITE_BATCH = 1 << 20;

/** Synchronous positioned reads of one stored blob (an open file descriptor). */
export interface SyncBlobReader {
  readonly size: number;
  /** Reads at `position` into `into`; returns the count read (0 at the end). */
  read(position: number, into: Uint8Array): number;
  close(): void;
}

export class FsContentStore implements ContentStore {
  readonly codecs = nodeCodecs;
  readonly keepsLayerTars = true;
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
    if (existing) {
      options?.alreadyStored?.();
      return existing;
    }
    await mkdir(this.dir, { recursive: true });
    const final = this.path(expected.digest);
    const tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    const file = await open(tmp, 'wx');
    let closed = false;
    let writing: Promise<unknown> = Promise.resolve();
    try {
      let batch: Uint8Array[] = [];
      let batched = 0;
      const flush = async () => {
        await writing;
        const chunks = batch;
        batch = [];
        batched = 0;
        writing = file.writev(chunks);
        writing.catch(() => {}); // awaited before the next write and at the end
      };
      await streamVerified(
        expected,
        data,
        this.codecs.sha256(),
        async (chunk) => {
          batch.push(chunk);
          batched += chunk.length;
          if (batched >= WRITE_BATCH) await flush();
        },
        options,
      );
      if (batched) await flush();
      await writing;
      closed = true;
      await file.close();
      await options?.beforeCommit?.();
      await rename(tmp, final);
    } catch (e) {
      await writing.catch(() => {});
      if (!closed) await file.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new RuntimeError('resource-exhausted', `no storage space left for blob ${expected.digest}`, { cause: e });
      }
      throw e;
    }
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
