// On-demand reads of stored layer tars in Node: FsContentStore.openSync and contentByteSources,
// and a whole request served from the fs store with file bytes read from the blob files.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsContentStore } from '../../runtime/content/fs-content-store.ts';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import { MemoryContentStore, RecordTable } from '../../runtime/content/index.ts';
import { RuntimeError, sha256 } from '../../runtime/core/index.ts';
import { blobByteSource, canOpenSync, contentByteSources, ModuleCache } from '../../runtime/run/index.ts';
import { serveRequest, type ServiceRecord } from '../../runtime/serve/index.ts';
import { ImageStore, importLayout, layoutFiles, packImage } from '../../runtime/images/index.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-fs-sources-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('synchronous reads from the fs content store', () => {
  it('reads any range of a stored blob, and nothing for a missing one', async () => {
    const store = new FsContentStore(mkdtempSync(join(work, 's-')));
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 13) % 256);
    const { digest } = await store.put({ digest: await sha256(bytes) }, bytes);
    const r = store.openSync(digest)!;
    expect(r.size).toBe(bytes.length);
    const into = new Uint8Array(5000);
    expect(r.read(77_777, into)).toBe(5000);
    expect(into).toEqual(bytes.subarray(77_777, 82_777));
    expect(r.read(99_998, into)).toBe(2);
    expect(r.read(100_000, into)).toBe(0);
    r.close();
    expect(store.openSync(await sha256(new Uint8Array(1)))).toBeUndefined();
    expect(canOpenSync(store)).toBe(true);
    expect(canOpenSync(new MemoryContentStore())).toBe(false);
    expect(contentByteSources(new MemoryContentStore())).toBe(blobByteSource);
  });

  it('serves a request with file bytes read on demand from the blob files', async () => {
    const root = mkdtempSync(join(work, 'serve-'));
    const wasm = new Uint8Array(
      await readFile(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url)),
    );
    const packed = await packImage({ wasm, dirs: ['/data'] });
    const files = layoutFiles(packed.blobs, [{ name: 't/hello:1', manifest: packed.manifestDescriptor }]);
    const content = new FsContentStore(root);
    const records = new FsRecords(root);
    const [image] = await importLayout(new ImageStore({ content, records }), {
      read: async (p) => files.get(p) ?? Promise.reject(new RuntimeError('not-found', p)),
    });
    await records.table<ServiceRecord>(RecordTable.Services).put('hello', {
      name: 'hello',
      image: image.ref,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [{ name: 'v', path: '/data' }],
      created: 0,
    });
    const opened: string[] = [];
    const sources = contentByteSources({
      get: (d: `sha256:${string}`) => content.get(d),
      info: (d: `sha256:${string}`) => content.info(d),
      openSync: (d: `sha256:${string}`) => (opened.push(d), content.openSync(d)),
    } as unknown as FsContentStore);
    const ctx = { content, records, modules: new ModuleCache(), byteSource: sources };
    const req = { method: 'GET', url: 'http://127.0.0.1/svc/hello/', headers: [] as [string, string][], body: null };
    const a = await serveRequest(ctx, 'hello', req);
    const b = await serveRequest(ctx, 'hello', req);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(new TextDecoder().decode(b.body)).toMatch(/hits=2/);
    // One descriptor per layer, shared by both runs.
    expect(opened).toEqual(image.layers.map((l) => l.diffId));
  });
});
