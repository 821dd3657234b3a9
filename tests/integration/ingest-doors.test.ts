// One ingest pipeline, six doors: a registry pull (a real docker-registry), a layout dir import, an
// archive tar load, a setup import, a seed import and a confirmed seed link. Each hostile image is fed through every door,
// and every door must refuse it the same way (the same RuntimeError code and reason) and record
// nothing: no image record, no blob, no lease left behind, no service bound.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsContentStore } from '../../runtime/content/fs-content-store.ts';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import {
  MemoryContentStore,
  MemoryRecords,
  RecordTable,
  type ContentStore,
  type RecordStoreFactory,
} from '../../runtime/content/index.ts';
import {
  digestHex,
  MediaType,
  RuntimeError,
  sha256,
  type Descriptor,
  type Digest,
  type ErrorCode,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from '../../runtime/core/index.ts';
import {
  blobPath,
  ImageStore,
  importLayout,
  layoutFiles,
  loadImages,
  packImage,
  pullImage,
  type LayoutReader,
  type TrustPolicy,
} from '../../runtime/images/index.ts';
import { writeTar } from '../../runtime/layers/index.ts';
import { parseReference, RegistryClient } from '../../runtime/registry/index.ts';
import {
  importSeed,
  importSetupArchive,
  prepareLink,
  SETUP_FILE,
  TRUST_POLICY_KEY,
} from '../../runtime/serve/index.ts';
import { dirFetch, helloWasm, writeLayoutDir } from '../support/layouts.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';

const enc = new TextEncoder();
const tmp = (p: string) => mkdtemp(join(tmpdir(), p));
const DOORS = ['registry pull', 'layout dir', 'archive tar', 'setup import', 'seed import', 'seed link'] as const;
type Door = (typeof DOORS)[number];
const TRAVERSAL = 'sha256:../../etc/hostname' as Digest;

/** One image as the hostile party publishes it: what a registry holds, and what a layout holds. */
interface Hostile {
  /** Config and layer blobs (their true bytes: a registry refuses others). */
  blobs: Map<Digest, Uint8Array>;
  /** Manifests an index points at, pushed by digest before the top one. */
  children: { bytes: Uint8Array; mediaType: string }[];
  /** What the tag names. */
  top: { bytes: Uint8Array; mediaType: string };
  /** Bytes served in place of a blob's true ones (in the layout; in the registry's storage). */
  tamper?: { digest: Digest; bytes: Uint8Array };
  /** 'serve': the registry itself refuses to hold this manifest, so a hostile registry's answer is served in front of it. */
  registry: 'push' | 'serve';
  /** A change to index.json only a layout can carry. */
  layoutIndex?: (index: ImageIndex) => void;
}

interface Case {
  id: string;
  build: (id: string) => Promise<Hostile>;
  /** undefined: the control, which every door must accept. */
  code?: ErrorCode;
  message?: RegExp;
  policy?: TrustPolicy;
  doors?: readonly Door[];
}

async function describeBytes(mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  return { mediaType, digest: await sha256(bytes), size: bytes.length };
}

/** A good wasi/wasm image, distinct per case (so the registry's shared blob storage can be tampered per case). */
async function packed(id: string) {
  const p = await packImage({
    wasm: await helloWasm(),
    dirs: ['/data'],
    files: [{ path: '/case.txt', data: enc.encode(id) }],
  });
  const blobs = new Map(p.blobs);
  blobs.delete(p.manifestDescriptor.digest);
  return { ...p, blobs };
}

/** The image with its manifest changed by `edit` (and the config by `editConfig`). */
async function edited(
  id: string,
  edit: (m: ImageManifest) => void = () => {},
  editConfig?: (c: ImageConfig) => void,
): Promise<Hostile> {
  const p = await packed(id);
  const manifest = structuredClone(p.manifest);
  if (editConfig) {
    const config = structuredClone(p.config);
    editConfig(config);
    const bytes = enc.encode(JSON.stringify(config));
    manifest.config = await describeBytes(MediaType.OciConfig, bytes);
    p.blobs.set(manifest.config.digest, bytes);
  }
  edit(manifest);
  return {
    blobs: p.blobs,
    children: [],
    top: { bytes: enc.encode(JSON.stringify(manifest)), mediaType: MediaType.OciManifest },
    registry: 'push',
  };
}

const CASES: Case[] = [
  { id: 'control', build: (id) => edited(id) },
  {
    id: 'unknown-layer-type',
    code: 'invalid-argument',
    message: /has media type "application\/vnd\.example\.unknown\.layer\.v1\+tar", which berth cannot unpack/,
    build: (id) => edited(id, (m) => void (m.layers[0].mediaType = 'application/vnd.example.unknown.layer.v1+tar')),
  },
  {
    id: 'blob-mismatch',
    code: 'data-loss',
    message: /hashes to sha256:[0-9a-f]{64}/,
    build: async (id) => {
      const h = await edited(id);
      const layer = (JSON.parse(new TextDecoder().decode(h.top.bytes)) as ImageManifest).layers[0];
      const bytes = h.blobs.get(layer.digest)!.slice();
      bytes[bytes.length - 10] ^= 0xff;
      return { ...h, tamper: { digest: layer.digest, bytes } };
    },
  },
  {
    id: 'traversal-layer-digest',
    code: 'invalid-argument',
    message: /"sha256:\.\.\/\.\.\/etc\/hostname" is not a sha256 digest/,
    build: async (id) => ({ ...(await edited(id, (m) => void (m.layers[0].digest = TRAVERSAL))), registry: 'serve' }),
  },
  {
    id: 'traversal-diff-id',
    code: 'invalid-argument',
    message: /diff_id 1 of the config: "sha256:\.\.\/\.\.\/etc\/hostname" is not a sha256 digest/,
    build: (id) =>
      edited(
        id,
        () => {},
        (c) => void (c.rootfs.diff_ids = [TRAVERSAL]),
      ),
  },
  {
    id: 'traversal-index-entry',
    code: 'invalid-argument',
    message: /"sha256:\.\.\/\.\.\/etc\/hostname" is not a sha256 digest/,
    // Only a layout names its top manifest by a digest it declares; a registry's is the hash of what it sends.
    doors: DOORS.filter((d) => d !== 'registry pull'),
    build: async (id) => ({
      ...(await edited(id)),
      layoutIndex: (index) => void (index.manifests[0].digest = TRAVERSAL),
    }),
  },
  {
    id: 'no-wasm-platform',
    code: 'not-found',
    message: /has no manifest for wasi\/wasm or wasip1\/wasm; it offers: linux\/amd64, linux\/arm64/,
    build: async (id) => {
      const h = await edited(id);
      const child = await describeBytes(MediaType.OciManifest, h.top.bytes);
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          { ...child, platform: { os: 'linux', architecture: 'amd64' } },
          { ...child, platform: { os: 'linux', architecture: 'arm64' } },
        ],
      };
      return {
        ...h,
        children: [h.top],
        top: { bytes: enc.encode(JSON.stringify(index)), mediaType: MediaType.OciIndex },
      };
    },
  },
  {
    id: 'oversize-layer',
    code: 'resource-exhausted',
    message: /declares 5368709120 bytes, more than the limit of 4294967296/,
    build: (id) => edited(id, (m) => void (m.layers[0].size = 5 * 2 ** 30)),
  },
  {
    id: 'registry-not-allowed',
    code: 'permission-denied',
    message: /is refused by the trust policy: registry .* is not allowed \(allowed: ghcr\.io\)/,
    policy: { allowedRegistries: ['ghcr.io'] },
    // A seed carries its policy for later pulls; importSeed takes none for its own images (yet).
    doors: DOORS.filter((d) => d !== 'seed import'),
    build: (id) => edited(id),
  },
  {
    id: 'signature-required',
    code: 'permission-denied',
    message: /is not signed by a trusted key: there is no signature \(no tag sha256-[0-9a-f]{64}\.sig/,
    policy: {
      requireSignature: {
        keys: [
          generateKeyPairSync('ec', { namedCurve: 'P-256' })
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString(),
        ],
      },
    },
    doors: DOORS.filter((d) => d !== 'seed import'),
    build: (id) => edited(id),
  },
];

/** A layout directory read as `berth build-seed` reads one. */
function dirReader(dir: string): LayoutReader {
  return {
    read: async (p) =>
      new Uint8Array(
        await readFile(join(dir, p)).catch(() => Promise.reject(new RuntimeError('not-found', `${dir} has no ${p}`))),
      ),
  };
}

function tarStream(files: Map<string, Uint8Array>): ReadableStream<Uint8Array> {
  return new Blob([
    writeTar(
      [...files].map(([path, data]) => ({ path, type: 'file' as const, mode: 0o644, data })),
    ) as Uint8Array<ArrayBuffer>,
  ]).stream() as ReadableStream<Uint8Array>;
}

/** A fetch that answers some manifest requests itself (a hostile registry) and passes the rest to the real one. */
function servingFetch(served: Map<string, { bytes: Uint8Array; mediaType: string }>): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const answer = served.get(url.pathname);
    if (answer && (init?.method ?? 'GET') === 'GET') {
      return new Response(answer.bytes as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': answer.mediaType, 'docker-content-digest': await sha256(answer.bytes) },
      });
    }
    return fetch(input, init);
  }) as typeof fetch;
}

describe('every ingest door refuses the same hostile images the same way', () => {
  let reg: TestRegistry;
  const built = new Map<string, Hostile>();
  const served = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  const layoutName = (id: string) => `localhost/hostile/${id}:1`;

  /** The layout files of a case's image, named `name`, with its tampering applied. */
  async function layout(h: Hostile, name: string): Promise<Map<string, Uint8Array>> {
    const blobs = new Map(h.blobs);
    for (const m of [...h.children, h.top]) blobs.set(await sha256(m.bytes), m.bytes);
    const files = layoutFiles(blobs, [{ name, manifest: await describeBytes(h.top.mediaType, h.top.bytes) }]);
    if (h.tamper) files.set(blobPath(h.tamper.digest), h.tamper.bytes);
    if (h.layoutIndex) {
      const index = JSON.parse(new TextDecoder().decode(files.get('index.json')!)) as ImageIndex;
      h.layoutIndex(index);
      files.set('index.json', enc.encode(JSON.stringify(index)));
    }
    return files;
  }

  beforeAll(async () => {
    reg = await startRegistry();
    const client = new RegistryClient();
    for (const c of CASES) {
      const h = await c.build(c.id);
      built.set(c.id, h);
      const ref = parseReference(`${reg.host}/hostile/${c.id}:1`);
      for (const [digest, bytes] of h.blobs) await client.pushBlob(ref, digest, bytes);
      for (const m of h.children) await client.pushManifest(ref, await sha256(m.bytes), m.bytes, m.mediaType);
      if (h.registry === 'push') await client.pushManifest(ref, '1', h.top.bytes, h.top.mediaType);
      else served.set(`/v2/hostile/${c.id}/manifests/1`, h.top);
      if (h.tamper) {
        const hex = digestHex(h.tamper.digest);
        await writeFile(
          join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'),
          h.tamper.bytes,
        );
      }
    }
  }, 60_000);
  afterAll(() => reg?.stop());

  /** Feeds the case's image through one door; the store (and services) it wrote into, and what it threw. */
  async function enter(
    door: Door,
    c: Case,
  ): Promise<{ error: unknown; store: ImageStore; records: RecordStoreFactory }> {
    const h = built.get(c.id)!;
    const name = layoutName(c.id);
    const options = c.policy ? { policy: c.policy } : {};
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    let content: ContentStore;
    let records: RecordStoreFactory;
    if (door === 'registry pull' || door === 'layout dir' || door === 'archive tar') {
      const dir = await tmp('berth-doors-store-');
      content = new FsContentStore(dir);
      records = new FsRecords(dir);
    } else {
      content = new MemoryContentStore();
      records = new MemoryRecords();
    }
    const store = new ImageStore({ content, records });
    let error: unknown;
    switch (door) {
      case 'registry pull':
        error = await fail(
          pullImage(
            store,
            new RegistryClient({ fetch: servingFetch(served) }),
            `${reg.host}/hostile/${c.id}:1`,
            options,
          ),
        );
        break;
      case 'layout dir': {
        const dir = await tmp('berth-doors-layout-');
        await writeLayoutDir(dir, await layout(h, name));
        error = await fail(importLayout(store, dirReader(dir), options));
        break;
      }
      case 'archive tar':
        error = await fail(loadImages(store, tarStream(await layout(h, name)), options));
        break;
      case 'setup import': {
        const files = await layout(h, name);
        files.set(SETUP_FILE, enc.encode(JSON.stringify({ version: 1, services: [{ name: 'svc', image: name }] })));
        error = await fail(importSetupArchive({ content, records }, tarStream(files), options));
        break;
      }
      case 'seed import': {
        const root = await tmp('berth-doors-seed-');
        await writeLayoutDir(join(root, 'image'), await layout(h, name));
        await writeFile(
          join(root, 'seed.json'),
          JSON.stringify({
            version: 1,
            images: [{ layout: 'image/', ref: name }],
            services: [{ name: 'svc', image: name }],
          }),
        );
        error = await fail(importSeed({ content, records }, 'http://seed.test/seed.json', dirFetch(root)));
        break;
      }
      case 'seed link': {
        // A /?seed= link, confirmed by the user: checked against the user's own trust policy.
        const root = await tmp('berth-doors-link-');
        await writeLayoutDir(join(root, 'image'), await layout(h, name));
        await writeFile(
          join(root, 'seed.json'),
          JSON.stringify({
            version: 1,
            images: [{ layout: 'image/', ref: name }],
            services: [{ name: 'svc', image: name }],
          }),
        );
        if (c.policy) await records.table(RecordTable.Settings).put(TRUST_POLICY_KEY, c.policy);
        error = await fail(
          prepareLink({ content, records }, 'http://seed.test/seed.json', dirFetch(root)).then((link) => link.apply()),
        );
        break;
      }
    }
    return { error, store, records };
  }

  for (const c of CASES) {
    const doors = c.doors ?? DOORS;
    it(
      c.code
        ? `${c.id}: ${c.code} at ${doors.length === DOORS.length ? 'every door' : doors.join(', ')}, nothing recorded`
        : `${c.id}: every door accepts a good image`,
      async () => {
        const seen: Record<string, string> = {};
        for (const door of doors) {
          const { error, store, records } = await enter(door, c);
          if (!c.code) {
            expect(error, door).toBeUndefined();
            expect(
              (await store.list()).map((i) => i.ref),
              door,
            ).toHaveLength(1);
            continue;
          }
          expect(error, `${door}: ${String(error)}`).toBeInstanceOf(RuntimeError);
          const e = error as RuntimeError;
          seen[door] = e.code;
          expect(e.message, door).toMatch(c.message!);
          expect(await store.list(), door).toEqual([]);
          expect(await store.content.list(), door).toEqual([]);
          expect(await store.leases.keys(), door).toEqual([]);
          expect(await store.layerIndexes.keys(), door).toEqual([]);
          expect(await records.table(RecordTable.Services).keys(), door).toEqual([]);
        }
        if (c.code) expect(seen).toEqual(Object.fromEntries(doors.map((d) => [d, c.code])));
      },
    );
  }
});
