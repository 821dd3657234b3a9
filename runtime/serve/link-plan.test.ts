// Seed links describe before they act: prepareLink stores nothing, apply imports exactly the plan,
// keeps the user's services, volumes and trust policy unless the user chooses otherwise.
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../content/index.ts';
import { ImageStore, layoutFiles, packImage, type TrustPolicy } from '../images/index.ts';
import { helloWasm } from '../../tests/support/layouts.ts';
import { prepareLink } from './link-plan.ts';
import { SETUP_FILE } from './setup-archive.ts';
import { TRUST_POLICY_KEY } from './seed.ts';
import type { ServiceRecord } from './service-record.ts';

const enc = new TextEncoder();

/** A link's files served by URL path, as any static host would. */
function hostFetch(files: Map<string, Uint8Array>): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const bytes = files.get(new URL(String(input)).pathname);
    return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('missing', { status: 404 });
  }) as typeof fetch;
}

async function linkSite(seed: object) {
  const packed = await packImage({ wasm: await helloWasm(), dirs: ['/data'] });
  const files = new Map<string, Uint8Array>();
  for (const [path, bytes] of layoutFiles(packed.blobs, [
    { name: 'localhost/link/app:1', manifest: packed.manifestDescriptor },
  ]))
    files.set(`/room/${path}`, bytes);
  files.set(
    '/seed.json',
    enc.encode(JSON.stringify({ version: 1, images: [{ layout: 'room/', ref: 'localhost/link/app:1' }], ...seed })),
  );
  files.set(`/room/${SETUP_FILE}`, enc.encode(JSON.stringify({ version: 1, services: [] })));
  return { files, digest: packed.manifestDescriptor.digest };
}

describe('prepareLink', () => {
  it('describes a link without storing anything, then imports exactly that', async () => {
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    const services = stores.records.table<ServiceRecord>(RecordTable.Services);
    const mine: ServiceRecord = {
      name: 'mine',
      image: 'x',
      imageDigest: `sha256:${'1'.repeat(64)}`,
      mode: 'raw',
      volumes: [],
      created: 1,
    };
    await services.put('mine', mine);
    await stores.records.table(RecordTable.Volumes).put('notes', { files: 'the user data' });
    const policy: TrustPolicy = { allowedRegistries: ['localhost'] };
    const { files, digest } = await linkSite({
      services: [
        {
          name: 'app',
          image: 'localhost/link/app:1',
          trusted: true,
          volumes: [
            { name: 'notes', path: '/data' },
            { name: 'fresh', path: '/cache/x' },
          ],
        },
        { name: 'mine', image: 'localhost/link/app:1', volumes: [] },
      ],
      trust: policy,
    });
    const link = await prepareLink(stores, 'http://link.example/seed.json', hostFetch(files));
    expect(link.plan.images).toEqual([{ ref: 'localhost/link/app:1', digest, source: 'http://link.example/room/' }]);
    expect(link.plan.services.map((s) => [s.service.name, s.exists, s.volumes])).toEqual([
      [
        'app',
        false,
        [
          { name: 'notes', path: '/data', exists: true },
          { name: 'fresh', path: '/cache/x', exists: false },
        ],
      ],
      ['mine', true, []],
    ]);
    expect(link.plan.trust).toEqual(policy);
    expect(link.defaultVolumes).toEqual({ notes: 'notes-2', fresh: 'fresh' });
    // Nothing stored yet.
    expect(await new ImageStore(stores).list()).toEqual([]);
    expect(await stores.content.list()).toEqual([]);
    expect(await services.keys()).toEqual(['mine']);

    const r = await link.apply({});
    expect(r.images.map((i) => i.digest)).toEqual([digest]);
    expect(r.services).toEqual(['app']);
    expect(await services.get('app')).toMatchObject({
      trusted: true,
      volumes: [
        { name: 'notes-2', path: '/data' },
        { name: 'fresh', path: '/cache/x' },
      ],
    });
    expect(await services.get('mine')).toEqual(mine);
    // The proposed policy was not adopted: the user did not say so.
    expect(await stores.records.table(RecordTable.Settings).get(TRUST_POLICY_KEY)).toBeUndefined();
  });

  it('adopts the policy and shares an existing volume only when the user chooses to', async () => {
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    await stores.records.table(RecordTable.Volumes).put('notes', { files: 'the user data' });
    const policy: TrustPolicy = { allowedRegistries: ['localhost'] };
    const { files } = await linkSite({
      services: [{ name: 'app', image: 'localhost/link/app:1', volumes: [{ name: 'notes', path: '/data' }] }],
      trust: policy,
    });
    const link = await prepareLink(stores, 'http://link.example/seed.json', hostFetch(files));
    await link.apply({ adoptTrust: true, volumes: { notes: 'notes' } });
    expect(await stores.records.table(RecordTable.Settings).get(TRUST_POLICY_KEY)).toEqual(policy);
    expect(await stores.records.table<ServiceRecord>(RecordTable.Services).get('app')).toMatchObject({
      volumes: [{ name: 'notes', path: '/data' }],
    });
  });

  it('says when importing would move a reference the user has', async () => {
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    const { files, digest } = await linkSite({ services: [] });
    const other = `sha256:${'2'.repeat(64)}` as const;
    await new ImageStore(stores).images.put('localhost/link/app:1', {
      ref: 'localhost/link/app:1',
      digest: other,
    } as never);
    const link = await prepareLink(stores, 'http://link.example/seed.json', hostFetch(files));
    expect(link.plan.images).toEqual([
      { ref: 'localhost/link/app:1', digest, source: 'http://link.example/room/', replaces: other },
    ]);
  });

  it('refuses a declared service of the wrong shape before storing anything', async () => {
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    const { files } = await linkSite({
      services: [{ name: 'app', image: 'localhost/link/app:1', volumes: [{ name: '../../x', path: '/data' }] }],
    });
    await expect(prepareLink(stores, 'http://link.example/seed.json', hostFetch(files))).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('volume name "../../x" is not a name'),
    });
    expect(await stores.records.table(RecordTable.Services).keys()).toEqual([]);
    expect(await stores.content.list()).toEqual([]);
  });

  it("counts a volume a service of the user's names as existing, before it has data", async () => {
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    await stores.records.table<ServiceRecord>(RecordTable.Services).put('mine', {
      name: 'mine',
      image: 'x',
      imageDigest: `sha256:${'1'.repeat(64)}`,
      mode: 'raw',
      volumes: [{ name: 'notes', path: '/data' }],
      created: 1,
    });
    const { files } = await linkSite({
      services: [{ name: 'app', image: 'localhost/link/app:1', volumes: [{ name: 'notes', path: '/data' }] }],
    });
    const link = await prepareLink(stores, 'http://link.example/seed.json', hostFetch(files));
    expect(link.plan.services[0].volumes).toEqual([{ name: 'notes', path: '/data', exists: true }]);
    expect(link.defaultVolumes).toEqual({ notes: 'notes-2' });
  });

  it('refuses limits a link may not set', async () => {
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    for (const limits of [{ timeoutMs: 1e308 }, { memoryBytes: -1 }, { outputBytes: Number.NaN }]) {
      const { files } = await linkSite({ services: [{ name: 'app', image: 'localhost/link/app:1', limits }] });
      await expect(prepareLink(stores, 'http://link.example/seed.json', hostFetch(files))).rejects.toMatchObject({
        code: 'invalid-argument',
      });
    }
  });
});

// From a review by attack: a link's archive is read whole before the dialog asks anything, and
// nothing limited it (1 MiB of gzip, sent with Content-Encoding, took the page to 2 GiB).
describe('a link to an endless archive', () => {
  it('stops reading at 1 GiB with resource-exhausted, storing nothing', async () => {
    let sent = 0;
    const chunk = new Uint8Array(4 << 20);
    const endless: typeof fetch = (async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            // A tar header of a 64 GiB file, then zeros without end.
            if (sent === 0) {
              const h = new Uint8Array(512);
              h.set(enc.encode('big'), 0);
              h.set(enc.encode('0000644\0'), 100);
              h[124] = 0x80; // base-256 size
              h[130] = 0x10; // 2^36 bytes
              h.set(enc.encode('ustar\0' + '00'), 257);
              h.fill(0x20, 148, 156);
              const sum = h.reduce((a, b) => a + b, 0);
              h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
              c.enqueue(h);
              sent += 512;
              return;
            }
            sent += chunk.length;
            c.enqueue(chunk);
          },
        }),
      )) as typeof fetch;
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    const e = await prepareLink(stores, 'https://links.example/big.tar', endless).catch((x: unknown) => x);
    expect((e as { code?: string }).code, String(e)).toBe('resource-exhausted');
    expect(sent).toBeLessThan(2 ** 30 + (64 << 20));
    expect(sent).toBeGreaterThan(2 ** 30 - (64 << 20));
    expect(await stores.content.list()).toEqual([]);
  }, 60_000);

  it('stops a seed list, a layout document or a setup file past 4 MiB, and a blob past its size', async () => {
    let sent = 0;
    const spaces = new Uint8Array(1 << 20).fill(0x20);
    const endlessBody = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          sent += spaces.length;
          c.enqueue(spaces);
        },
      });
    const stores = { content: new MemoryContentStore(), records: new MemoryRecords() };
    for (const url of ['https://links.example/seed.json', 'https://links.example/layout/']) {
      sent = 0;
      const fetchFn = (async () => new Response(endlessBody())) as typeof fetch;
      const e = await prepareLink(stores, url, fetchFn).catch((x: unknown) => x);
      expect((e as { code?: string }).code, `${url}: ${String(e)}`).toBe('resource-exhausted');
      expect(sent, url).toBeLessThan(8 << 20);
    }
    // A layout whose manifest blob never ends: read to its descriptor's size, no further.
    const { files } = await linkSite({});
    const index = JSON.parse(new TextDecoder().decode(files.get('/room/index.json')));
    const manifestPath = `/room/blobs/sha256/${index.manifests[0].digest.slice(7)}`;
    sent = 0;
    const fetchFn = (async (input: RequestInfo | URL) => {
      const path = new URL(String(input)).pathname;
      if (path === manifestPath) return new Response(endlessBody());
      return hostFetch(files)(input);
    }) as typeof fetch;
    const plan = await prepareLink(stores, 'https://links.example/room/', fetchFn).catch((x: unknown) => x);
    if (plan instanceof Error) expect((plan as { code?: string }).code).toMatch(/resource-exhausted|data-loss/);
    expect(sent).toBeLessThan(8 << 20);
    expect(await stores.content.list()).toEqual([]);
  });
});
