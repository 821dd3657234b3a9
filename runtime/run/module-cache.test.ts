// The module caches are named with the deadline rewrite's version, and the older ones are deleted;
// a module's key is the image, its path and the memory cap, which an image's paths cannot forge.
// Node has no Cache API: the CacheStorage here is an in-memory stand-in with its keys and delete.
import { describe, expect, it } from 'vitest';
import { DEADLINE_REWRITE } from '../wasm/instrument-deadline.ts';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { ImageStore, importLayout, layoutFiles, packImage } from '../images/index.ts';
import { COMPONENT_CACHE, GLUE_VERSION } from '../component/index.ts';
import { MODULE_CACHE, ModuleCache, pruneCompiledForImages, pruneModuleCaches } from './module-cache.ts';
import { nodeRunContext } from './run-context.ts';
import { runImage } from './run-image.ts';

describe('module caches across deadline rewrites', () => {
  it('are named with the rewrite, and pruning deletes the caches of other rewrites only', async () => {
    expect(MODULE_CACHE).toBe(`berth-modules-${DEADLINE_REWRITE}-k2`);
    const names = new Set([
      'berth-modules',
      'berth-modules-1',
      `berth-modules-${DEADLINE_REWRITE}`,
      MODULE_CACHE,
      'workbox-precache-v2',
      'floor',
    ]);
    const storage = {
      keys: async () => [...names],
      delete: async (n: string) => names.delete(n),
    };
    expect((await pruneModuleCaches(storage)).sort()).toEqual(
      ['berth-modules', 'berth-modules-1', `berth-modules-${DEADLINE_REWRITE}`].sort(),
    );
    expect([...names].sort()).toEqual([MODULE_CACHE, 'floor', 'workbox-precache-v2'].sort());
  });
});

// From a review by attack: the key was `${digest}:${path}:${cap}`, so an image with a file named
// `/x.wasm:16777216`, run once with no cap (a terminal run), left its uncapped module where a
// service running `/x.wasm` under a 16 MiB cap looked for its own: the cap was gone.
describe('the key of a compiled module', () => {
  it('cannot be forged by an entrypoint path: a capped run never gets a module compiled without the cap', async () => {
    // (memory (export "memory") 1) (func (export "_start") (drop (memory.grow (i32.const 1024))))
    const grow = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0],
      ...[3, 2, 1, 0],
      ...[5, 3, 1, 0, 1],
      ...[7, 0x13, 2, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 0, 6, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0, 0],
      ...[0x0a, 0x0a, 1, 8, 0, 0x41, 0x80, 0x08, 0x40, 0, 0x1a, 0x0b],
    ]);
    const cap = 16 * 2 ** 20;
    const packed = await packImage({
      wasm: grow,
      wasmPath: `/x.wasm:${cap}`,
      files: [{ path: '/x.wasm', data: grow, mode: 0o755 }],
    });
    const files = layoutFiles(packed.blobs, [{ name: 'localhost/t/x:1', manifest: packed.manifestDescriptor }]);
    const ctx = nodeRunContext(
      { content: new MemoryContentStore(), records: new MemoryRecords() },
      { modules: new ModuleCache() },
    );
    const [image] = await importLayout(new ImageStore(ctx), {
      read: async (p) => files.get(p) ?? Promise.reject(new Error(p)),
    });
    const run = (entry: string, maxMemoryBytes?: number) =>
      runImage(ctx, image.digest, { entrypoint: [entry], timeoutMs: 5000, maxMemoryBytes });
    expect((await run(`/x.wasm:${cap}`)).memoryBytes).toBe((1 + 1024) * 65536);
    const capped = await run('/x.wasm', cap);
    expect(capped.memoryBytes).toBe(65536); // memory.grow failed: one page, as it began
  });
});

// A stand-in for the Cache API's open/has/keys/delete (Node has none), holding request URLs.
class MemoryCaches {
  readonly caches = new Map<string, Set<string>>();
  add(name: string, url: string) {
    if (!this.caches.has(name)) this.caches.set(name, new Set());
    this.caches.get(name)!.add(url);
  }
  async has(name: string) {
    return this.caches.has(name);
  }
  async open(name: string) {
    const urls = this.caches.get(name) ?? new Set<string>();
    return {
      keys: async () => [...urls].map((u) => new Request(u)),
      delete: async (r: Request) => urls.delete(r.url),
    } as unknown as Cache;
  }
}

describe('pruning what was compiled for removed images', () => {
  const live = `sha256:${'a'.repeat(64)}`;
  const gone = `sha256:${'b'.repeat(64)}`;
  const o = 'https://berth.test';
  const module = (scope: string, key: string) => `${o}/__berth/modules/${scope}/${encodeURIComponent(key)}`;
  const transpiled = (key: string) => `${o}/__berth/components/${encodeURIComponent(key)}`;
  // The keys as run-image.ts and componentLoader spell them.
  const entries = {
    liveModule: module('metered', JSON.stringify([live, '/app.wasm', 268435456])),
    goneModule: module('metered', JSON.stringify([gone, '/app.wasm', 268435456])),
    liveCore: module('component', JSON.stringify([GLUE_VERSION, `${live}:/c.wasm`, 'component.core.wasm', null, true])),
    goneCore: module('component', JSON.stringify([GLUE_VERSION, `${gone}:/c.wasm`, 'component.core.wasm', null, true])),
    oldCore: module('component', JSON.stringify(['jco-transpile@0.1.0', `${live}:/c.wasm`, 'x.wasm', null, true])),
    liveComponent: transpiled(`${GLUE_VERSION}:jspi:${live}:/c.wasm`),
    goneComponent: transpiled(`${GLUE_VERSION}:sync:${gone}:/c.wasm`),
    oldComponent: transpiled(`jco-transpile@0.1.0:sync:${live}:/c.wasm`),
    // A path that looks like a digest does not make an entry of the image it names.
    pathLikeDigest: module('metered', JSON.stringify([live, `/${gone}.wasm`, null])),
  };

  it('deletes the entries of images no longer stored and of other bindgens, and keeps the rest', async () => {
    const caches = new MemoryCaches();
    for (const [k, url] of Object.entries(entries))
      caches.add(k.endsWith('Component') ? COMPONENT_CACHE : MODULE_CACHE, url);
    caches.add('workbox-precache-v2', `${o}/__berth/modules/metered/${encodeURIComponent(JSON.stringify([gone]))}`);
    const deleted = await pruneCompiledForImages(async () => new Set([live]), caches as unknown as CacheStorage);
    expect(deleted).toBe(5);
    expect([...caches.caches.get(MODULE_CACHE)!].sort()).toEqual(
      [entries.liveModule, entries.liveCore, entries.pathLikeDigest].sort(),
    );
    expect([...caches.caches.get(COMPONENT_CACHE)!]).toEqual([entries.liveComponent]);
    expect(caches.caches.get('workbox-precache-v2')!.size).toBe(1);
  });

  it('does nothing where there is no Cache API or no cache yet', async () => {
    const none = async () => new Set<string>();
    expect(await pruneCompiledForImages(none, undefined)).toBe(0);
    expect(await pruneCompiledForImages(none, new MemoryCaches() as unknown as CacheStorage)).toBe(0);
  });

  // From a review: the stored images were read first, so an image another window stored and
  // prepared while the caches were listed lost its entries (and the SW could not serve it).
  it('asks which images are stored only after listing the entries', async () => {
    const caches = new MemoryCaches();
    caches.add(MODULE_CACHE, entries.liveModule);
    const order: string[] = [];
    const listing = caches.open.bind(caches);
    caches.open = async (name: string) => {
      const c = await listing(name);
      const keys = c.keys.bind(c);
      return Object.assign(c, { keys: async () => (order.push('listed'), keys()) });
    };
    // Stored meanwhile: the entry made before this prune asked is kept.
    const stored = async () => (order.push('asked'), new Set([live]));
    expect(await pruneCompiledForImages(stored, caches as unknown as CacheStorage)).toBe(0);
    expect(order).toEqual(['listed', 'asked']);
  });
});
