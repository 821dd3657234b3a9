// Node's codecs against the web ones they replace: the same digests, gzip that every gunzip reads
// back (pako, DecompressionStream, node:zlib) and that is the same bytes every time, and the fs
// store's streamed writes leaving nothing behind when they fail.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ungzip } from 'pako';
import { describe, expect, it } from 'vitest';
import { streamOf } from '../../tests/suites/layer-helpers.ts';
import { collectingSha256, concatBytes, RuntimeError, sha256 } from '../core/index.ts';
import { FsContentStore } from './fs-content-store.ts';
import { nodeCodecs } from './node-codecs.ts';

async function all(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  return concatBytes(chunks);
}

/** Bytes that compress somewhat, with long-range repeats across gzip's 1 MiB blocks. */
function sample(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 7;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 3 === 0 ? x >>> 24 : 'berth layer '.charCodeAt(i % 12);
  }
  return out;
}

describe('node codecs', () => {
  it('hashes incrementally to what WebCrypto gives whole', async () => {
    const data = sample(300_000);
    const h = nodeCodecs.sha256();
    const w = collectingSha256();
    for (let at = 0; at < data.length; at += 7777) {
      h.update(data.subarray(at, at + 7777));
      w.update(data.subarray(at, at + 7777));
    }
    const expected = await sha256(data);
    expect(await h.digest()).toBe(expected);
    expect(await w.digest()).toBe(expected);
  });

  it('gzips in parallel blocks into one gzip stream that every gunzip reads, the same bytes each time', async () => {
    for (const size of [0, 1, 1 << 20, (3 << 20) + 12345]) {
      const data = sample(size);
      const gz = await all(nodeCodecs.gzip!(streamOf(data, 70_000), 6));
      expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]); // mtime 0, OS unknown
      expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(data)), `node, ${size}`).toBe(true);
      expect(Buffer.from(ungzip(gz)).equals(Buffer.from(data)), `pako, ${size}`).toBe(true);
      const viaWeb = await all(
        streamOf(gz).pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>),
      );
      expect(Buffer.from(viaWeb).equals(Buffer.from(data)), `DecompressionStream, ${size}`).toBe(true);
      // Whatever the input chunks, the same output.
      const again = await all(nodeCodecs.gzip!(streamOf(data, 4096), 6));
      expect(createHash('sha256').update(again).digest('hex')).toBe(createHash('sha256').update(gz).digest('hex'));
      // About gzip's own size.
      if (size > 1 << 20) expect(gz.length).toBeLessThan(gzipSync(data, { level: 6 }).length * 1.01);
    }
  });

  it('gunzips as a stream; a corrupt or cut stream is data-loss; an error of the input passes through', async () => {
    const data = sample(500_000);
    const gz = gzipSync(data);
    expect(Buffer.from(await all(nodeCodecs.gunzip!(streamOf(gz, 1000)))).equals(Buffer.from(data))).toBe(true);
    const corrupt = new Uint8Array(gz);
    corrupt[100] ^= 0xff;
    corrupt[200] ^= 0xff;
    await expect(all(nodeCodecs.gunzip!(streamOf(corrupt)))).rejects.toMatchObject({ code: 'data-loss' });
    await expect(all(nodeCodecs.gunzip!(streamOf(gz.subarray(0, gz.length - 10))))).rejects.toMatchObject({
      code: 'data-loss',
    });
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(gz.subarray(0, 1000));
      },
      pull(c) {
        c.error(new RuntimeError('unavailable', 'the connection dropped'));
      },
    });
    await expect(all(nodeCodecs.gunzip!(failing))).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the connection dropped',
    });
  });

  it('reads its input only as its output is read (a bomb stops where its reader stops)', async () => {
    const gz = gzipSync(new Uint8Array(64 << 20), { level: 1 });
    let pulled = 0;
    const input = streamOf(gz, 1024).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(c, ctl) {
          pulled += c.length;
          ctl.enqueue(c);
        },
      }),
    );
    const reader = nodeCodecs.gunzip!(input).getReader();
    let out = 0;
    while (out < 1 << 20) out += (await reader.read()).value!.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(pulled).toBeLessThan(gz.length / 8);
    await reader.cancel();
  });
});

describe('FsContentStore streamed writes', () => {
  it('leaves no temp file after a mismatch, a long stream, an abort or a refused commit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-fs-put-'));
    const store = new FsContentStore(root);
    const data = sample(3 << 20);
    const digest = await sha256(data);
    const tampered = new Uint8Array(data);
    tampered[12345] ^= 1;
    await expect(store.put({ digest, size: data.length }, streamOf(tampered, 65536))).rejects.toMatchObject({
      code: 'data-loss',
      message: expect.stringMatching(/hashes to sha256:[0-9a-f]{64}/),
    });
    await expect(store.put({ digest, size: 100 }, streamOf(data, 65536))).rejects.toMatchObject({ code: 'data-loss' });
    const abort = new AbortController();
    abort.abort(new Error('stopped'));
    await expect(store.put({ digest }, streamOf(data, 65536), { signal: abort.signal })).rejects.toThrow('stopped');
    await expect(
      store.put({ digest }, streamOf(data, 65536), {
        beforeCommit: () => Promise.reject(new RuntimeError('data-loss', 'the compressed blob did not verify')),
      }),
    ).rejects.toThrow('did not verify');
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
    await store.put({ digest, size: data.length }, streamOf(data, 65536));
    expect(Buffer.from(await (await store.get(digest))!.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    expect(await readdir(join(root, 'blobs', 'sha256'))).toHaveLength(1);
  });
});
