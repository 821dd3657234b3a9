// An exported setup carries what each service may reach: before, its outgoing hosts were left out,
// so after an export and an import a handler's calls (other services included) were refused.
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../content/index.ts';
import { streamOfBytes } from '../layers/index.ts';
import { ImageStore, importLayout, layoutFiles, packImage, readArchiveFiles } from '../images/index.ts';
import { exportSetup, parseSetup, SETUP_FILE } from './setup-archive.ts';
import type { ServiceRecord } from './service-record.ts';

describe('exportSetup', () => {
  it("keeps a service's outgoing hosts", async () => {
    const ctx = { content: new MemoryContentStore(), records: new MemoryRecords() };
    const packed = await packImage({ wasm: Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) });
    const files = layoutFiles(packed.blobs, [{ name: 'localhost/x/front:1', manifest: packed.manifestDescriptor }]);
    const [image] = await importLayout(new ImageStore(ctx), {
      read: async (p) => files.get(p) ?? Promise.reject(new Error(p)),
    });
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('front', {
      name: 'front',
      image: image.ref,
      imageDigest: image.digest,
      mode: 'wasi-http',
      volumes: [],
      outgoingHosts: ['/svc/notes/', 'api.example.com'],
      created: 0,
    });
    const archive = await readArchiveFiles(streamOfBytes(await exportSetup(ctx)));
    const [front] = parseSetup(archive.get(SETUP_FILE)!).services;
    expect(front).toMatchObject({ name: 'front', outgoingHosts: ['/svc/notes/', 'api.example.com'] });
  });
});
