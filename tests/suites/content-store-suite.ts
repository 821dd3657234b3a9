// One behaviour suite every ContentStore backend passes.
import { describe, expect, it } from 'vitest';
import { sha256, type Digest } from '../../runtime/core/index.ts';
import type { ContentStore } from '../../runtime/content/index.ts';

const enc = new TextEncoder();

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}

export function contentStoreSuite(name: string, make: () => Promise<ContentStore>): void {
  describe(`ContentStore: ${name}`, () => {
    it('commits a verified blob and reads it back as a Blob', async () => {
      const store = await make();
      const data = enc.encode('hello blob');
      const digest = await sha256(data);
      const info = await store.put({ digest, size: data.length }, data);
      expect(info).toMatchObject({ digest, size: data.length });
      const blob = await store.get(digest);
      expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(data);
      expect((await store.info(digest))?.size).toBe(data.length);
    });

    it('accepts streams and reports progress', async () => {
      const store = await make();
      const parts = [enc.encode('abc'), enc.encode('defgh')];
      const digest = await sha256(enc.encode('abcdefgh'));
      const seen: number[] = [];
      await store.put({ digest, size: 8 }, streamOf(parts), { onProgress: (p) => seen.push(p.done) });
      expect(seen).toEqual([3, 8]);
      expect(await (await store.get(digest))!.text()).toBe('abcdefgh');
    });

    it('refuses a digest mismatch and leaves nothing behind', async () => {
      const store = await make();
      const digest = await sha256(enc.encode('expected'));
      await expect(store.put({ digest }, enc.encode('tampered'))).rejects.toMatchObject({ code: 'data-loss' });
      expect(await store.get(digest)).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    it('refuses a short or long read against the declared size', async () => {
      const store = await make();
      const data = enc.encode('0123456789');
      const digest = await sha256(data);
      await expect(store.put({ digest, size: 11 }, data)).rejects.toMatchObject({ code: 'data-loss' });
      await expect(store.put({ digest, size: 9 }, streamOf([data]))).rejects.toMatchObject({ code: 'data-loss' });
      expect(await store.info(digest)).toBeUndefined();
    });

    it('treats writing an existing blob as a no-op', async () => {
      const store = await make();
      const data = enc.encode('twice');
      const digest = await sha256(data);
      const first = await store.put({ digest }, data);
      const second = await store.put({ digest }, data);
      expect(second.created).toBe(first.created);
      expect((await store.list()).map((b) => b.digest)).toEqual([digest]);
    });

    it('lists and deletes', async () => {
      const store = await make();
      const digests: Digest[] = [];
      for (const s of ['a', 'b', 'c']) {
        const d = enc.encode(s);
        digests.push((await store.put({ digest: await sha256(d) }, d)).digest);
      }
      expect((await store.list()).map((b) => b.digest).sort()).toEqual([...digests].sort());
      expect(await store.delete(digests[1])).toBe(true);
      expect(await store.delete(digests[1])).toBe(false);
      expect(await store.get(digests[1])).toBeUndefined();
      expect((await store.list()).length).toBe(2);
    });
  });
}
