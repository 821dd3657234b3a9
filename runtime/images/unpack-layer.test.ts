// storeLayer: a layer stored and unpacked from its download in one pass, on the web codecs (memory
// store) and Node's (fs store): what is committed, when, and what a hostile download gets.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zlibConstants, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { streamOf } from '../../tests/suites/layer-helpers.ts';
import { FsContentStore } from '../content/fs-content-store.ts';
import { FsRecords } from '../content/fs-record-store.ts';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { MediaType, sha256, type Descriptor } from '../core/index.ts';
import { writeTar } from '../layers/index.ts';
import { ImageStore, type LayerBytes } from './image-store.ts';
import { decodeSeekIndex, seekSpans } from '../layers/index.ts';
import { storeLayer, UnpackBudget } from './unpack-layer.ts';

const STORES: [string, () => Promise<ImageStore>][] = [
  [
    'memory store, web codecs',
    async () => new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() }),
  ],
  [
    'fs store, node codecs',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'berth-store-layer-'));
      return new ImageStore({ content: new FsContentStore(dir), records: new FsRecords(dir) });
    },
  ],
];

/** The whole tar, span by span through the seek index. */
async function readTarThroughSeek(bytes: LayerBytes): Promise<Uint8Array> {
  const gz = new Uint8Array(await bytes.blob.arrayBuffer());
  return seekSpans(decodeSeekIndex(bytes.seek!), gz);
}

async function layerOf(files: number) {
  const tar = writeTar(
    Array.from({ length: files }, (_, i) => ({
      path: `d/f${i}`,
      type: 'file' as const,
      data: randomBytes(200_000),
    })),
  );
  const gz = new Uint8Array(gzipSync(tar));
  const desc: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: await sha256(gz), size: gz.length };
  return { tar, gz, desc, diffId: await sha256(tar) };
}

describe.each(STORES)('storeLayer (%s)', (_name, make) => {
  it('stores the blob and its tar and indexes it from one read of the download', async () => {
    const store = await make();
    const { gz, desc, diffId, tar } = await layerOf(5);
    let reads = 0;
    const download = streamOf(gz, 16384).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(c, ctl) {
          reads++;
          ctl.enqueue(c);
        },
      }),
    );
    const index = await storeLayer(store, desc, diffId, download);
    expect(reads).toBe(Math.ceil(gz.length / 16384));
    expect(index.size).toBe(tar.length);
    expect(index.entries.map((e) => e.path)).toEqual(['d/f0', 'd/f1', 'd/f2', 'd/f3', 'd/f4']);
    expect((await store.content.info(desc.digest))?.size).toBe(gz.length);
    expect(await store.layerIndexes.get(diffId)).toBeDefined();
    if (store.content.keepsLayerTars) {
      expect((await store.content.info(diffId))?.size).toBe(tar.length);
    } else {
      // No tar of its own: the compressed blob and its seek index read back the same bytes.
      expect(await store.content.info(diffId)).toBeUndefined();
      const bytes = await store.layerBytes({ digest: desc.digest, diffId });
      expect(bytes.seek).toBeInstanceOf(Uint8Array);
      expect(new Uint8Array(await readTarThroughSeek(bytes))).toEqual(tar);
    }
    // An uncompressed layer is its own tar: one blob.
    const plain = await make();
    const tarDesc = { mediaType: MediaType.OciLayer, digest: diffId, size: tar.length };
    expect((await storeLayer(plain, tarDesc, diffId, streamOf(tar))).size).toBe(tar.length);
    expect((await plain.content.list()).map((b) => b.digest)).toEqual([diffId]);
  });

  it('stores a layer whose tar is already stored (not indexed), and one whose tar and index are', async () => {
    const store = await make();
    const { gz, desc, diffId, tar } = await layerOf(3);
    await store.content.put({ digest: diffId }, tar);
    expect((await storeLayer(store, desc, diffId, streamOf(gz, 4096))).size).toBe(tar.length);
    expect((await store.content.info(desc.digest))?.size).toBe(gz.length);
    await store.content.delete(desc.digest);
    expect((await storeLayer(store, desc, diffId, streamOf(gz, 4096))).size).toBe(tar.length);
    expect((await store.content.info(desc.digest))?.size).toBe(gz.length);
  });

  // From a review by attack: the store does not write a tar it has already (here a wasm artifact's
  // layer, stored and never indexed), so nothing checked the arriving one, and its index was kept
  // under the diff_id it claimed, for every later image with that layer.
  const publicTar = () =>
    writeTar([
      { path: 'etc', type: 'dir' },
      { path: 'etc/passwd', type: 'file', data: new TextEncoder().encode('root:x:0:0::/root:/bin/sh\n') },
    ]);
  const hostileTar = () =>
    writeTar([
      { path: 'etc', type: 'dir' },
      { path: 'etc/passwd', type: 'symlink', linkname: '/attacker' },
      { path: 'PWNED', type: 'file', data: Uint8Array.of(1) },
    ]);
  const entries = (index: { entries: { path: string; type: string }[] }) =>
    index.entries.map((e) => `${e.path} ${e.type}`);

  it("refuses a download claiming a stored tar's diff_id over a tar of its own; the stored tar is what images see", async () => {
    const store = await make();
    const t1 = publicTar();
    const d1 = await sha256(t1);
    await store.content.put({ digest: d1 }, t1);
    for (const [mediaType, bytes] of [
      [MediaType.OciLayerGzip, new Uint8Array(gzipSync(hostileTar()))],
      [MediaType.OciLayer, hostileTar()],
    ] as const) {
      const desc = { mediaType, digest: await sha256(bytes), size: bytes.length };
      await expect(storeLayer(store, desc, d1, streamOf(bytes, 512))).rejects.toMatchObject({ code: 'data-loss' });
      expect(await store.layerIndexes.get(d1)).toBeUndefined();
    }
    const gz = new Uint8Array(gzipSync(t1));
    const genuine = { mediaType: MediaType.OciLayerGzip, digest: await sha256(gz), size: gz.length };
    expect(entries(await storeLayer(store, genuine, d1, streamOf(gz, 512)))).toEqual(['etc dir', 'etc/passwd file']);
    expect(entries(await store.layerIndex(d1))).toEqual(['etc dir', 'etc/passwd file']);
  });

  it('a tar stored by another pull meanwhile is indexed from the store, not from the unchecked download', async () => {
    const store = await make();
    const t1 = publicTar();
    const d1 = await sha256(t1);
    await store.content.put({ digest: d1 }, t1);
    // The store says it lacks the tar when asked first, and has it when the write begins.
    const info = store.content.info.bind(store.content);
    let asked = false;
    store.content.info = async (d) => {
      if (d === d1 && !asked) {
        asked = true;
        return undefined;
      }
      return info(d);
    };
    const bytes = hostileTar();
    const desc = { mediaType: MediaType.OciLayer, digest: await sha256(bytes), size: bytes.length };
    const index = await storeLayer(store, desc, d1, streamOf(bytes, 512)).catch((e: unknown) => e);
    expect(asked).toBe(true);
    if (index instanceof Error) expect(index).toMatchObject({ code: 'data-loss' });
    else expect(entries(index as never)).toEqual(['etc dir', 'etc/passwd file']);
    const kept = await store.layerIndexes.get(d1);
    if (kept) expect(entries(await store.layerIndex(d1))).toEqual(['etc dir', 'etc/passwd file']);
  });

  it('refuses a blob that is not its digest, even when its tar is right, and commits neither', async () => {
    const store = await make();
    const { gz, desc, diffId } = await layerOf(3);
    // The gzip header's mtime: another digest, the same size, the same tar inside.
    const other = new Uint8Array(gz);
    other[4] ^= 0xff;
    await expect(storeLayer(store, desc, diffId, streamOf(other, 4096))).rejects.toMatchObject({
      code: 'data-loss',
      message: expect.stringMatching(/hashes to sha256:[0-9a-f]{64}/),
    });
    // A byte of the deflate data: the gunzip fails too, and the digest is still what is reported.
    const tampered = new Uint8Array(gz);
    tampered[tampered.length - 10] ^= 0xff;
    await expect(storeLayer(store, desc, diffId, streamOf(tampered, 4096))).rejects.toMatchObject({
      code: 'data-loss',
      message: expect.stringMatching(/hashes to sha256:[0-9a-f]{64}/),
    });
    expect(await store.content.list()).toEqual([]);
    expect(await store.layerIndexes.keys()).toEqual([]);
  });

  it('refuses a blob that is its digest but whose tar is not the diff_id, and indexes nothing', async () => {
    const store = await make();
    const { gz, diffId } = await layerOf(3);
    // Corrupt deflate data that still inflates (deflate has no checksum of its own; the gzip CRC is
    // not what berth relies on): only the diff_id can tell.
    const other = new Uint8Array(gzipSync((await layerOf(3)).tar));
    const desc = { mediaType: MediaType.OciLayerGzip, digest: await sha256(other), size: other.length };
    await expect(storeLayer(store, desc, diffId, streamOf(other, 4096))).rejects.toMatchObject({
      code: 'data-loss',
      message: expect.stringMatching(/hashes to sha256:[0-9a-f]{64}/),
    });
    expect(await store.layerIndexes.keys()).toEqual([]);
    expect(await store.content.info(diffId)).toBeUndefined();
    void gz;
  });

  it('stops a gzip bomb at the cap with the download barely read, and commits nothing', async () => {
    const store = await make();
    const MiB = 1 << 20;
    const piece = deflateRawSync(new Uint8Array(MiB), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const header = writeTar([{ path: 'zeros', type: 'file', data: new Uint8Array(0) }]).subarray(0, 512);
    header.set(new TextEncoder().encode('77777777777'), 124); // declares an 8 GiB file
    header.fill(0x20, 148, 156);
    header.set(
      new TextEncoder().encode(
        `${header
          .reduce((a, b) => a + b, 0)
          .toString(8)
          .padStart(6, '0')}\0`,
      ),
      148,
    );
    let sent = 0;
    const bomb = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (sent === 0) {
            c.enqueue(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
            c.enqueue(new Uint8Array(deflateRawSync(header, { finishFlush: zlibConstants.Z_SYNC_FLUSH })));
          }
          sent++;
          c.enqueue(new Uint8Array(piece));
        },
      },
      { highWaterMark: 0 },
    );
    const desc = { mediaType: MediaType.OciLayerGzip, digest: await sha256(new Uint8Array(1)), size: 1 << 30 };
    await expect(
      storeLayer(store, desc, await sha256(new Uint8Array(2)), bomb, {
        maxLayerSize: 4 * MiB,
        budget: new UnpackBudget(),
      }),
    ).rejects.toMatchObject({ code: 'resource-exhausted' });
    expect(sent).toBeLessThan(64);
    expect(await store.content.list()).toEqual([]);
  });

  it('stops when its signal aborts, committing nothing', async () => {
    const store = await make();
    const { gz, desc, diffId } = await layerOf(20);
    const abort = new AbortController();
    let n = 0;
    const slow = streamOf(gz, 8192).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(c, ctl) {
          if (++n === 5) abort.abort(new Error('another layer failed'));
          ctl.enqueue(c);
        },
      }),
    );
    await expect(storeLayer(store, desc, diffId, slow, { signal: abort.signal })).rejects.toThrow(
      'another layer failed',
    );
    expect(await store.content.list()).toEqual([]);
  });
});
