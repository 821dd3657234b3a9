// Services are GC roots: a tag that moves under a service leaves the service answering, and GC
// keeps the image it is pinned to; removing such an image is refused unless forced; an ingest that
// fails takes back what it stored.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  type BlobData,
  type BlobInfo,
  MemoryContentStore,
  MemoryRecords,
  type PutOptions,
  RecordTable,
} from '../content/index.ts';
import { type Digest, MediaType, RuntimeError, sha256 } from '../core/index.ts';
import {
  collectGarbage,
  ImageStore,
  type ImageRecord,
  importLayout,
  layoutFiles,
  type LayoutReader,
  packImage,
  removeImage,
} from '../images/index.ts';
import { nodeRunContext, type RunContext } from '../run/index.ts';
import type { HttpRequestData } from './raw-http.ts';
import { serveRequest } from './serve-request.ts';
import type { ServiceRecord } from './service-record.ts';

const dec = new TextDecoder();
const enc = new TextEncoder();
const REF = 'localhost/test/hello-web-db:1';

function mapReader(files: Map<string, Uint8Array>): LayoutReader {
  return {
    async read(path) {
      const f = files.get(path);
      if (!f) throw new RuntimeError('not-found', path);
      return f;
    },
  };
}

const wasm = async () =>
  new Uint8Array(await readFile(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url)));

/** A layout naming `ref`: the hello-web-db example, told apart by `version` (its config differs). */
async function layout(ref: string, version: string) {
  const packed = await packImage({ wasm: await wasm(), dirs: ['/data'], env: { VERSION: version } });
  return { packed, files: layoutFiles(packed.blobs, [{ name: ref, manifest: packed.manifestDescriptor }]) };
}

const get: HttpRequestData = { method: 'GET', url: 'http://127.0.0.1/svc/hello/', headers: [], body: null };

async function bind(ctx: RunContext, name: string, image: ImageRecord): Promise<void> {
  await ctx.records.table<ServiceRecord>(RecordTable.Services).put(name, {
    name,
    image: image.ref,
    imageDigest: image.digest,
    mode: 'raw',
    volumes: [{ name: `${name}-data`, path: '/data' }],
    created: 0,
  });
}

/** Every blob an image record names (a memory store keeps no uncompressed tars of gzip layers). */
function blobsOf(image: ImageRecord): Digest[] {
  return [image.digest, image.configDigest, ...image.layers.map((l) => l.digest)];
}

async function stored(ctx: RunContext): Promise<string[]> {
  return (await ctx.content.list()).map((b) => b.digest).sort();
}

function context(content = new MemoryContentStore()): RunContext {
  return nodeRunContext({ content, records: new MemoryRecords() });
}

describe('services as GC roots', () => {
  it('keep answering when their tag moves to another image, and GC keeps the pinned image', async () => {
    const ctx = context();
    const store = new ImageStore(ctx);
    const [v1] = await importLayout(store, mapReader((await layout(REF, '1')).files));
    await bind(ctx, 'hello', v1);
    expect(dec.decode((await serveRequest(ctx, 'hello', get)).body)).toBe('hello from wasm, hits=1\n');

    // The same reference, re-imported with another image: the service stays pinned to v1.
    const [v2] = await importLayout(store, mapReader((await layout(REF, '2')).files));
    expect(v2.digest).not.toBe(v1.digest);
    expect((await store.list()).map((i) => [i.ref, i.digest])).toEqual([[REF, v2.digest]]);
    expect((await store.get(v1.digest))?.digest).toBe(v1.digest);
    const gc = await collectGarbage(store);
    expect(gc.removedBlobs).toBe(0);
    for (const d of blobsOf(v1)) expect(await ctx.content.info(d), d).toBeDefined();
    const r = await serveRequest(ctx, 'hello', get);
    expect(r.status).toBe(200);
    expect(dec.decode(r.body)).toBe('hello from wasm, hits=2\n');

    // Rebound to v2, v1 is no root any more: the next GC drops its record and its own blobs.
    await bind(ctx, 'hello', v2);
    const freed = await collectGarbage(store);
    expect(freed.removedBlobs).toBe(2); // v1's manifest and config; the layer is v2's too.
    expect(await store.get(v1.digest)).toBeUndefined();
    expect(await ctx.content.info(v1.digest)).toBeUndefined();
    expect(dec.decode((await serveRequest(ctx, 'hello', get)).body)).toBe('hello from wasm, hits=3\n');
  });

  it('refuses to remove an image a service runs unless forced; forced, the service answers 502', async () => {
    const ctx = context();
    const store = new ImageStore(ctx);
    const [image] = await importLayout(store, mapReader((await layout(REF, '1')).files));
    await bind(ctx, 'hello', image);
    await bind(ctx, 'hello2', image);
    const before = await stored(ctx);
    const refused = await removeImage(store, REF).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RuntimeError);
    expect(refused).toMatchObject({ code: 'failed-precondition' });
    expect((refused as Error).message).toContain('services hello, hello2 run it');
    expect(await stored(ctx)).toEqual(before);
    expect((await serveRequest(ctx, 'hello', get)).status).toBe(200);

    // Another name for the same digest: removing one name leaves the services running.
    await importLayout(store, mapReader((await layout('localhost/test/other:1', '1')).files));
    expect((await removeImage(store, 'localhost/test/other:1')).removedBlobs).toBe(0);
    expect((await serveRequest(ctx, 'hello', get)).status).toBe(200);

    const forced = await removeImage(store, REF, { force: true });
    expect(forced.removedBlobs).toBe(before.length);
    expect(await stored(ctx)).toEqual([]);
    expect(await ctx.records.table(RecordTable.Images).keys()).toEqual([]);
    const r = await serveRequest(ctx, 'hello', get);
    expect(r.status).toBe(502);
    expect(dec.decode(r.body)).toContain('not-found');
  });

  it('refuses to remove a moved image by its digest unless forced', async () => {
    const ctx = context();
    const store = new ImageStore(ctx);
    const [v1] = await importLayout(store, mapReader((await layout(REF, '1')).files));
    await bind(ctx, 'hello', v1);
    await importLayout(store, mapReader((await layout(REF, '2')).files));
    await expect(removeImage(store, v1.digest)).rejects.toMatchObject({ code: 'failed-precondition' });
    await removeImage(store, v1.digest, { force: true });
    expect(await store.get(v1.digest)).toBeUndefined();
    expect((await store.list()).map((i) => i.ref)).toEqual([REF]);
  });

  it('refuses a digest as the name to store an image under', async () => {
    const ctx = context();
    const { packed, files } = await layout(`sha256:${'a'.repeat(64)}`, '1');
    await expect(importLayout(new ImageStore(ctx), mapReader(files))).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    expect(packed.blobs.size).toBeGreaterThan(0);
    expect(await stored(ctx)).toEqual([]);
  });
});

describe('a failed ingest', () => {
  it('removes the blobs it stored (a bad layer mid-way), and only those', async () => {
    const ctx = context();
    const store = new ImageStore(ctx);
    const { packed, files } = await layout(REF, '1');
    await importLayout(store, mapReader(files));
    // A stray blob nothing references, which the failing image names too: not the ingest's to remove.
    const junk = enc.encode('not a gzip stream');
    const junkDigest = (await ctx.content.put({ digest: await sha256(junk) }, junk)).digest;
    const before = await stored(ctx);
    const indexesBefore = await store.layerIndexes.keys();

    // Layers: a fresh good one (stored, unpacked, indexed), then one whose bytes are no gzip.
    const fresh = await packImage({ wasm: await wasm(), dirs: ['/other'] });
    const freshLayer = fresh.manifest.layers[0];
    const config = {
      ...fresh.config,
      rootfs: { type: 'layers', diff_ids: [fresh.config.rootfs.diff_ids[0], await sha256(enc.encode('x'))] },
    };
    const configBytes = enc.encode(JSON.stringify(config));
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: await sha256(configBytes), size: configBytes.length },
      layers: [freshLayer, { mediaType: MediaType.OciLayerGzip, digest: junkDigest, size: junk.length }],
    };
    const manifestBytes = enc.encode(JSON.stringify(manifest));
    const blobs = new Map<Digest, Uint8Array>([
      [freshLayer.digest, fresh.blobs.get(freshLayer.digest)!],
      [junkDigest, junk],
      [manifest.config.digest, configBytes],
      [await sha256(manifestBytes), manifestBytes],
    ]);
    const bad = layoutFiles(blobs, [
      {
        name: 'localhost/test/bad:1',
        manifest: { mediaType: MediaType.OciManifest, digest: await sha256(manifestBytes), size: manifestBytes.length },
      },
    ]);
    await expect(importLayout(store, mapReader(bad))).rejects.toBeInstanceOf(RuntimeError);
    expect(await stored(ctx)).toEqual(before);
    expect(await store.layerIndexes.keys()).toEqual(indexesBefore);
    expect((await store.list()).map((i) => i.ref)).toEqual([REF]);
    expect(packed.manifest.layers[0].digest).not.toBe(freshLayer.digest);
  });

  it('removes the blobs it stored when storage runs out mid-way', async () => {
    /** A store that is full when the manifest (the last blob an ingest writes) comes. */
    class FullStore extends MemoryContentStore {
      full?: Digest;
      override async put(expected: { digest: Digest; size?: number }, data: BlobData, options?: PutOptions) {
        if (expected.digest === this.full) throw new RuntimeError('resource-exhausted', 'the quota is used up');
        return super.put(expected, data, options) as Promise<BlobInfo>;
      }
    }
    const content = new FullStore();
    const ctx = context(content);
    const store = new ImageStore(ctx);
    await importLayout(store, mapReader((await layout(REF, '1')).files));
    const before = await stored(ctx);
    const { packed, files } = await layout('localhost/test/other:1', '2');
    content.full = packed.manifestDescriptor.digest;
    await expect(importLayout(store, mapReader(files))).rejects.toMatchObject({ code: 'resource-exhausted' });
    expect(await stored(ctx)).toEqual(before);
    expect((await store.list()).map((i) => i.ref)).toEqual([REF]);
  });
});
