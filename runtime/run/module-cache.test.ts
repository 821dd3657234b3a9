// The module caches are named with the deadline rewrite's version, and the older ones are deleted.
// Node has no Cache API: the CacheStorage here is an in-memory stand-in with its keys and delete.
import { describe, expect, it } from 'vitest';
import { DEADLINE_REWRITE } from '../wasm/instrument-deadline.ts';
import { MODULE_CACHE, pruneModuleCaches } from './module-cache.ts';

describe('module caches across deadline rewrites', () => {
  it('are named with the rewrite, and pruning deletes the caches of other rewrites only', async () => {
    expect(MODULE_CACHE).toBe(`berth-modules-${DEADLINE_REWRITE}`);
    const names = new Set(['berth-modules', 'berth-modules-1', MODULE_CACHE, 'workbox-precache-v2', 'floor']);
    const storage = {
      keys: async () => [...names],
      delete: async (n: string) => names.delete(n),
    };
    expect((await pruneModuleCaches(storage)).sort()).toEqual(['berth-modules', 'berth-modules-1']);
    expect([...names].sort()).toEqual([MODULE_CACHE, 'floor', 'workbox-precache-v2'].sort());
  });
});
