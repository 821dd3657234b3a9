// The module caches are named with the deadline rewrite's version, and the older ones are deleted;
// a module's key is the image, its path and the memory cap, which an image's paths cannot forge.
// Node has no Cache API: the CacheStorage here is an in-memory stand-in with its keys and delete.
import { describe, expect, it } from 'vitest';
import { DEADLINE_REWRITE } from '../wasm/instrument-deadline.ts';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { ImageStore, importLayout, layoutFiles, packImage } from '../images/index.ts';
import { MODULE_CACHE, ModuleCache, pruneModuleCaches } from './module-cache.ts';
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
