// Properties of image archives and the documents in them (fast-check): an image packed from
// generated files, saved as an OCI layout tar and as a `docker save` tar, loads back into a fresh
// store with the same config and layers (and, for the layout, the same manifest digest); archives
// with bytes changed, and any JSON in the place of a manifest, end in an image or berth's
// RuntimeError, never another error.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isRuntimeError, MediaType, sha256, type Digest } from '../core/index.ts';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { streamOfBytes } from '../layers/split-stream.ts';
import { loadImages, loadImagesFromFiles, saveDockerArchive, saveImages } from './image-archive.ts';
import { ImageStore } from './image-store.ts';
import { layoutFiles } from './oci-layout.ts';
import { packImage, type PackOptions } from './pack-image.ts';

const WASM = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const store = () => new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
const expectTyped = (e: unknown) => expect(isRuntimeError(e), String(e)).toBe(true);

const segment = fc.stringMatching(/^[a-z0-9_.-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const files = fc.uniqueArray(
  fc.record({
    path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`),
    data: fc.uint8Array({ maxLength: 2000 }),
  }),
  { selector: (f) => f.path, maxLength: 6 },
);
// No file may be a directory of another (a/b and a/b/c).
const image = fc
  .record({
    files: files.filter((fs) => !fs.some((a) => fs.some((b) => b.path.startsWith(`${a.path}/`)))),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_]{1,8}$/), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    cmd: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  })
  .map((o): PackOptions => ({ wasm: WASM, ...o, files: o.files.filter((f) => f.path !== '/app.wasm') }));

async function packed(options: PackOptions) {
  const s = store();
  const p = await packImage(options);
  const [loaded] = await loadImagesFromFiles(
    s,
    layoutFiles(p.blobs, [{ name: 'localhost/x:1', manifest: p.manifestDescriptor }]),
  );
  return { s, loaded: loaded! };
}

describe('image archives', () => {
  test.prop([image], { numRuns: 40 })(
    'saved as an OCI layout or docker save tar, an image loads back with the same config and layers',
    async (options) => {
      const { s, loaded } = await packed(options);
      const [fromLayout] = await loadImages(store(), streamOfBytes(await saveImages(s, [loaded.ref]), 999));
      expect(fromLayout!.digest).toBe(loaded.digest);
      expect(fromLayout!.ref).toBe(loaded.ref);
      const [fromDocker] = await loadImages(store(), streamOfBytes(await saveDockerArchive(s, [loaded.ref]), 999));
      expect(fromDocker!.configDigest).toBe(loaded.configDigest);
      expect(fromDocker!.layers.map((l) => l.diffId)).toEqual(loaded.layers.map((l) => l.diffId));
      expect(fromDocker!.config.config).toEqual(loaded.config.config);
    },
  );

  test.prop(
    [
      image,
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
    ],
    { numRuns: 60 },
  )('an archive with bytes changed loads or ends in RuntimeError', async (options, docker, edits) => {
    const { s, loaded } = await packed(options);
    const tar = await (docker ? saveDockerArchive : saveImages)(s, [loaded.ref]);
    for (const [at, v] of edits) tar[at % tar.length] = v;
    await loadImages(store(), streamOfBytes(tar, 4096)).catch(expectTyped);
  });

  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    // Manifests with fields of the wrong kind: the shapes a hostile registry would try.
    fc.record({
      schemaVersion: fc.oneof(fc.constant(2), fc.jsonValue()),
      mediaType: fc.constantFrom(MediaType.OciManifest, MediaType.OciIndex, 'x', 5),
      config: fc.jsonValue({ maxDepth: 2 }),
      layers: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })),
      manifests: fc.oneof(fc.constant(undefined), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })),
    }),
  );
  test.prop([json], { numRuns: 200 })(
    'any JSON in the place of a manifest or index: an image or RuntimeError',
    async (value) => {
      const bytes = new TextEncoder().encode(JSON.stringify(value) ?? 'null');
      const digest: Digest = await sha256(bytes);
      const blobs = new Map<Digest, Uint8Array>([[digest, bytes]]);
      const files = layoutFiles(blobs, [
        { name: 'x:1', manifest: { mediaType: MediaType.OciManifest, digest, size: bytes.length } },
      ]);
      await loadImagesFromFiles(store(), files).catch(expectTyped);
    },
  );

  const config = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({
      architecture: fc.oneof(fc.constant('wasm'), fc.jsonValue({ maxDepth: 1 })),
      os: fc.oneof(fc.constant('wasi'), fc.jsonValue({ maxDepth: 1 })),
      config: fc.jsonValue({ maxDepth: 3 }),
      rootfs: fc.oneof(
        fc.record({ type: fc.constant('layers'), diff_ids: fc.jsonValue({ maxDepth: 2 }) }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    }),
  );
  test.prop([config], { numRuns: 150 })('any JSON as an image config: an image or RuntimeError', async (value) => {
    const p = await packImage({ wasm: WASM });
    const bytes = new TextEncoder().encode(JSON.stringify(value) ?? 'null');
    const configDesc = { ...p.manifest.config, digest: await sha256(bytes), size: bytes.length };
    const manifest = new TextEncoder().encode(JSON.stringify({ ...p.manifest, config: configDesc }));
    const digest = await sha256(manifest);
    const blobs = new Map<Digest, Uint8Array>(p.blobs);
    blobs.set(configDesc.digest, bytes);
    blobs.set(digest, manifest);
    const files = layoutFiles(blobs, [
      { name: 'x:1', manifest: { mediaType: MediaType.OciManifest, digest, size: manifest.length } },
    ]);
    await loadImagesFromFiles(store(), files).catch(expectTyped);
  });

  const dockerList = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    // Entries whose Config and Layers the archive has, with RepoTags of any kind.
    fc.array(
      fc.record({
        Config: fc.constant('config.json'),
        Layers: fc.constant([]),
        RepoTags: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  );
  test.prop([dockerList], { numRuns: 150 })(
    'any JSON as a docker save manifest.json: an image or RuntimeError',
    async (value) => {
      const files = new Map([
        ['manifest.json', new TextEncoder().encode(JSON.stringify(value) ?? 'null')],
        [
          'config.json',
          new TextEncoder().encode(
            JSON.stringify({ architecture: 'wasm', os: 'wasi', rootfs: { type: 'layers', diff_ids: [] } }),
          ),
        ],
      ]);
      const tagsOk = (t: unknown) =>
        t === undefined || t === null || (Array.isArray(t) && t.every((x) => typeof x === 'string'));
      const wellFormed =
        Array.isArray(value) &&
        value.every((e) => typeof e === 'object' && e !== null && tagsOk((e as { RepoTags?: unknown }).RepoTags));
      const loaded = await loadImagesFromFiles(store(), files).then(
        (images) => images.map((i) => i.ref),
        (e: unknown) => (expectTyped(e), undefined),
      );
      // RepoTags that are not a list of names are refused, never read as one ("abc" as a, b, c).
      if (loaded && Array.isArray(value)) expect(wellFormed).toBe(true);
    },
  );
});
