import { describe, expect, it } from 'vitest';
import { BytesPending, retryPending } from '../core/index.ts';
import { BlobChunkCache, pagedBlobSource } from './byte-sources.ts';

const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);

describe('pagedBlobSource', () => {
  it('throws BytesPending for bytes not in memory, then reads them, short at the next missing chunk', async () => {
    const cache = new BlobChunkCache(1024, 4096);
    const source = pagedBlobSource(new Blob([data]), cache);
    const into = new Uint8Array(3000);
    expect(() => source.read(1500, into)).toThrow(BytesPending);
    const n = await retryPending(() => source.read(1500, into));
    expect(n).toBe(2048 - 1500); // the rest of chunk 1: chunk 2 is not in memory yet
    expect(into.subarray(0, n)).toEqual(data.subarray(1500, 2048));
    expect(await retryPending(() => source.read(9990, new Uint8Array(100)))).toBe(10);
  });

  it('reads a range larger than its cache, one short read after another', async () => {
    const cache = new BlobChunkCache(1000, 3000); // 3 chunks, the read needs 10
    const source = pagedBlobSource(new Blob([data]), cache);
    const into = new Uint8Array(data.length);
    let at = 0;
    for (let reads = 0; at < data.length; reads++) {
      if (reads > 100) throw new Error('no progress');
      at += await retryPending(() => source.read(at, into.subarray(at)));
    }
    expect(into).toEqual(data);
  });

  it('keeps at most its budget, dropping the least recently used chunks', async () => {
    const cache = new BlobChunkCache(1000, 3000);
    const blob = new Blob([data]);
    const source = pagedBlobSource(blob, cache);
    for (const at of [0, 1000, 2000, 3000]) await retryPending(() => source.read(at, new Uint8Array(1000)));
    expect(cache.get(blob, 0)).toBeUndefined(); // the oldest went
    expect(cache.get(blob, 3)).toEqual(data.subarray(3000, 4000));
    // reads past the end
    expect(await retryPending(() => source.read(20_000, new Uint8Array(10)))).toBe(0);
  });
});
