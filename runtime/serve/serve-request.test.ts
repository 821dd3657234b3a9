// The whole request path in Node: pack the example into an OCI layout, import it (verified,
// unpacked, indexed), bind a service, and serve requests through the WASI broker.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../content/index.ts';
import { blobPath, ImageStore, importLayout, layoutFiles, packImage, type LayoutReader } from '../images/index.ts';
import { RuntimeError } from '../core/index.ts';
import { bytesSource } from '../run/byte-sources.ts';
import { ModuleCache } from '../run/module-cache.ts';
import { instrumentDeadline } from '../wasm/instrument-deadline.ts';
import { serveRequest } from './serve-request.ts';
import type { ServiceRecord } from './service-record.ts';
import type { HttpRequestData } from './raw-http.ts';
import { VolumeStore } from '../run/volume-store.ts';
import { type HostContext } from '../run/index.ts';

const dec = new TextDecoder();
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

async function layout() {
  const wasm = new Uint8Array(await readFile(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url)));
  const packed = await packImage({ wasm, dirs: ['/data'] });
  return { packed, files: layoutFiles(packed.blobs, [{ name: REF, manifest: packed.manifestDescriptor }]) };
}

async function context(): Promise<HostContext> {
  return { content: new MemoryContentStore(), records: new MemoryRecords(), modules: new ModuleCache(), byteSource: async (b) => bytesSource(new Uint8Array(await b.arrayBuffer())) };
}

const get = (path: string): HttpRequestData => ({ method: 'GET', url: `http://127.0.0.1/svc/hello${path}`, headers: [], body: null });

describe('serveRequest', () => {
  it('imports the image, then counts hits across requests in a volume', async () => {
    const ctx = await context();
    const { packed, files } = await layout();
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    expect(image).toMatchObject({ ref: REF, digest: packed.manifestDescriptor.digest, platform: { os: 'wasi', architecture: 'wasm' } });
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hello', {
      name: 'hello', image: REF, imageDigest: image.digest, mode: 'raw', volumes: [{ name: 'hello-data', path: '/data' }], created: 0,
    });
    for (const n of [1, 2, 3]) {
      const r = await serveRequest(ctx, 'hello', get('/'));
      expect(r.status).toBe(200);
      expect(dec.decode(r.body)).toBe(`hello from wasm, hits=${n}\n`);
    }
    // The volume holds the file the program wrote, and nothing of the per-run upper leaked into it.
    const vol = await new VolumeStore(ctx.records).open('hello-data');
    const file = vol.lookup('counter.json');
    expect(file?.kind).toBe('file');
    const bytes = new Uint8Array(64);
    const n = file!.kind === 'file' ? file!.read(0, bytes) : 0;
    expect(dec.decode(bytes.subarray(0, n))).toMatch(/"hits": 3/);
  });

  it('loses no update when 50 requests to one volume run at once', async () => {
    const ctx = await context();
    const { files } = await layout();
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hello', {
      name: 'hello', image: REF, imageDigest: image.digest, mode: 'raw', volumes: [{ name: 'shared', path: '/data' }], created: 0,
    });
    const all = await Promise.all(Array.from({ length: 50 }, () => serveRequest(ctx, 'hello', get('/'))));
    const counts = all.map((r) => Number(/hits=(\d+)/.exec(dec.decode(r.body))![1])).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('stops a program whose memory outgrows the service limit, with 502 and its stderr', async () => {
    const ctx = await context();
    const hog = new Uint8Array(await readFile(new URL('../../tests/fixtures/services/hog.wasm', import.meta.url)));
    const packed = await packImage({ wasm: hog });
    const files = layoutFiles(packed.blobs, [{ name: 'localhost/test/hog:1', manifest: packed.manifestDescriptor }]);
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hog', {
      name: 'hog', image: image.ref, imageDigest: image.digest, mode: 'raw', volumes: [], limits: { memoryBytes: 32 * 2 ** 20 }, created: 0,
    });
    const r = await serveRequest(ctx, 'hog', get('/'));
    expect(r.status).toBe(502);
    const text = dec.decode(r.body);
    expect(text).toContain('past its limit of 33554432');
    expect(text).toMatch(/hog: (2\d|3[01]) MiB/);
  });

  it('stops a runaway program at its deadline with 504 when modules carry deadline checks', async () => {
    const ctx = { ...(await context()), modules: new ModuleCache(undefined, (b) => instrumentDeadline(b)) };
    const spin = new Uint8Array(await readFile(new URL('../../tests/fixtures/services/spin.wasm', import.meta.url)));
    const packed = await packImage({ wasm: spin });
    const files = layoutFiles(packed.blobs, [{ name: 'localhost/test/spin:1', manifest: packed.manifestDescriptor }]);
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('spin', {
      name: 'spin', image: image.ref, imageDigest: image.digest, mode: 'raw', volumes: [], limits: { timeoutMs: 300 }, created: 0,
    });
    const r = await serveRequest(ctx, 'spin', get('/'));
    expect(r.status).toBe(504);
    expect(dec.decode(r.body)).toContain('did not finish within 300 ms');
  });

  it('answers 404 for an unknown service and 502 when the image is gone', async () => {
    const ctx = await context();
    expect((await serveRequest(ctx, 'nope', get('/'))).status).toBe(404);
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('ghost', {
      name: 'ghost', image: 'x', imageDigest: `sha256:${'0'.repeat(64)}`, mode: 'raw', volumes: [], created: 0,
    });
    const r = await serveRequest(ctx, 'ghost', get('/'));
    expect(r.status).toBe(502);
    expect(dec.decode(r.body)).toContain('not-found');
  });

  it('refuses a layout whose layer bytes were altered, and writes no image record', async () => {
    const ctx = await context();
    const { packed, files } = await layout();
    const layer = packed.manifest.layers[0];
    const tampered = files.get(blobPath(layer.digest))!.slice();
    tampered[tampered.length - 5] ^= 0xff;
    files.set(blobPath(layer.digest), tampered);
    await expect(importLayout(new ImageStore(ctx), mapReader(files))).rejects.toMatchObject({ code: 'data-loss' });
    expect(await new ImageStore(ctx).list()).toEqual([]);
    expect(await ctx.content.get(layer.digest)).toBeUndefined();
  });
});
