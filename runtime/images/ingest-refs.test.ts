// A name is a reference at every door: an archive's or a link's names were stored as they came, so
// one with bidirectional controls (`nginx:latest` then U+202E U+2066) showed in the UI as a name it
// is not. Now each is parsed as a reference before anything is stored.
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { isRuntimeError } from '../core/index.ts';
import { ImageStore } from './image-store.ts';
import { importLayout, layoutFiles, packImage } from './index.ts';

const WASM = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

async function importNamed(name: string) {
  const packed = await packImage({ wasm: WASM });
  const files = layoutFiles(packed.blobs, [{ name, manifest: packed.manifestDescriptor }]);
  const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
  const result = await importLayout(store, { read: async (p) => files.get(p) ?? Promise.reject(new Error(p)) }).catch(
    (e: unknown) => e,
  );
  return { result, stored: await store.list() };
}

describe('names of imported images', () => {
  it.each(['docker.io/library/nginx:latest\u202e\u2066', 'localhost/a\u200b/b:1', 'Upper/case:1', 'a b:1'])(
    'refuses %j and stores nothing',
    async (name) => {
      const { result, stored } = await importNamed(name);
      expect(isRuntimeError(result, 'invalid-argument'), String(result)).toBe(true);
      expect(stored).toEqual([]);
    },
  );

  it('takes a reference', async () => {
    const { result, stored } = await importNamed('localhost/workshop/x:1');
    expect(result).not.toBeInstanceOf(Error);
    expect(stored.map((i) => i.ref)).toEqual(['localhost/workshop/x:1']);
  });
});

// An image's os and architecture are shown in tables, the page and warnings: names, not text of
// their own (a config's os with escape sequences reached the user's terminal).
describe('the platform of an imported image', () => {
  async function importWithConfig(config: object) {
    const packed = await packImage({ wasm: WASM });
    // The config blob replaced by one of ours, the manifest made to name it.
    const enc = new TextEncoder();
    const { sha256, MediaType } = await import('../core/index.ts');
    const manifest = JSON.parse(new TextDecoder().decode(packed.blobs.get(packed.manifestDescriptor.digest)!));
    const old = JSON.parse(new TextDecoder().decode(packed.blobs.get(manifest.config.digest)!));
    const cfg = enc.encode(JSON.stringify({ ...old, ...config }));
    const cfgDigest = await sha256(cfg);
    const blobs = new Map(packed.blobs);
    blobs.set(cfgDigest, cfg);
    const man = enc.encode(
      JSON.stringify({ ...manifest, config: { ...manifest.config, digest: cfgDigest, size: cfg.length } }),
    );
    const manDigest = await sha256(man);
    blobs.set(manDigest, man);
    const files = layoutFiles(blobs, [
      { name: 'localhost/x/p:1', manifest: { mediaType: MediaType.OciManifest, digest: manDigest, size: man.length } },
    ]);
    const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
    return importLayout(store, { read: async (p) => files.get(p) ?? Promise.reject(new Error(p)) }).catch(
      (e: unknown) => e,
    );
  }

  it('refuses an os or architecture that is not a name', async () => {
    for (const bad of [
      { os: 'wasi\u001b]52;c;eA==\u0007' },
      { architecture: 'wasm x' },
      { os: { a: 1 } },
      { os: '' },
    ]) {
      const r = await importWithConfig(bad);
      expect(isRuntimeError(r, 'invalid-argument'), `${JSON.stringify(bad)}: ${String(r)}`).toBe(true);
    }
    const fine = await importWithConfig({ os: 'wasip1', architecture: 'wasm' });
    expect(fine).not.toBeInstanceOf(Error);
  });
});
