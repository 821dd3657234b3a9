// The CLI's build cache while another berth writes it (a `berth serve` or `berth run` keeping an
// entry): `system df` and `system prune` must not fail on a file renamed or removed under them.
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheUsage, clearCache, fsModuleStore } from './build-cache.ts';

/** Writes entries into `cache` until the returned stop is called. */
function writer(cache: string): () => Promise<void> {
  const store = fsModuleStore(cache, 'metered');
  let stop = false;
  let i = 0;
  const done = (async () => {
    while (!stop) await store.put(`k${i++ % 50}`, new Uint8Array(16 << 10)).catch(() => {});
  })();
  return async () => {
    stop = true;
    await done;
  };
}

describe('the build cache under a concurrent writer', () => {
  it('is counted without failing (a review saw 161 of 300 counts fail with ENOENT)', async () => {
    const cache = join(await mkdtemp(join(tmpdir(), 'berth-bc-')), 'cache');
    const stop = writer(cache);
    const failures: unknown[] = [];
    for (let i = 0; i < 200; i++) await cacheUsage(cache).catch((e) => failures.push(e));
    await stop();
    expect(failures).toEqual([]);
  });

  it('is emptied without failing, and what a writer keeps after is a new cache', async () => {
    const store = await mkdtemp(join(tmpdir(), 'berth-bc-'));
    const cache = join(store, 'cache');
    const stop = writer(cache);
    const failures: unknown[] = [];
    for (let i = 0; i < 200; i++) await clearCache(cache).catch((e) => failures.push(e));
    await stop();
    expect(failures).toEqual([]);
    // Nothing left aside by the prunes.
    expect((await readdir(store)).filter((n) => n !== 'cache')).toEqual([]);
  });

  it('is counted as empty when it is missing or not a directory, and a prune clears what an old prune left', async () => {
    const store = await mkdtemp(join(tmpdir(), 'berth-bc-'));
    expect(await cacheUsage(join(store, 'cache'))).toEqual({ entries: 0, bytes: 0 });
    await writeFile(join(store, 'cache'), 'not a directory');
    expect(await cacheUsage(join(store, 'cache'))).toEqual({ entries: 0, bytes: 0 });
    const left = join(store, 'cache.0b0c6f0e-6f0a-4c1e-9a36-6d0f5d3a1e2b.old');
    await mkdir(join(left, 'components'), { recursive: true });
    await writeFile(join(left, 'components', 'x'), 'left');
    await clearCache(join(store, 'cache'));
    expect(await readdir(store)).toEqual([]);
  });
});
