import { collectGarbage } from '../../runtime/images/index.ts';
import { volumeLockName, VolumeStore } from '../../runtime/run/index.ts';
import { RecordTable } from '../../runtime/content/index.ts';
import type { ServiceRecord } from '../../runtime/serve/index.ts';
import { snapshotBytes } from '../../runtime/vfs/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { humanSize, table } from '../image-format.ts';
import { cacheDir, cacheUsage, clearCache } from '../build-cache.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/**
 * `berth system df`: images, the blobs that hold them (what no image needs is reclaimable),
 * volumes, and the build cache (cli/build-cache.ts). `berth system prune`: frees the blobs no
 * image, service or running pull needs, and the build cache; `--volumes -f` also removes the
 * volumes no service mounts.
 */
export const systemCommand = defineCommand({
  synopsis: 'df | prune [--volumes -f]',
  options: {
    volumes: { type: 'boolean', help: 'prune: also remove the volumes no service mounts (needs -f)' },
    force: { type: 'boolean', short: 'f', help: 'prune --volumes: yes, remove them' },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    const [verb, ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    const store = openStore(values.store);
    const volumes = new VolumeStore(store.records);
    const services = store.records.table<ServiceRecord>(RecordTable.Services);
    const serviceRecords = await Promise.all((await services.keys()).map((k) => services.get(k)));
    const mounted = new Set(serviceRecords.flatMap((s) => s?.volumes?.map((v) => v.name) ?? []));
    // Active, as docker counts images containers use: the images services are pinned to.
    const pinned = new Set(serviceRecords.flatMap((s) => (s ? [s.imageDigest] : [])));
    if (verb === 'df') {
      const images = await store.images.list();
      const blobs = await store.content.list();
      const stored = blobs.reduce((n, b) => n + b.size, 0);
      const free = await collectGarbage(store.images, { dryRun: true });
      const names = await volumes.list();
      let volumeBytes = 0;
      let idleBytes = 0;
      for (const name of names) {
        const v = await volumes.get(name);
        const size = v ? snapshotBytes(v.snapshot) : 0;
        volumeBytes += size;
        if (!mounted.has(name)) idleBytes += size;
      }
      const cache = await cacheUsage(cacheDir(store.dir));
      const pct = (part: number, whole: number) => (whole ? ` (${Math.round((part / whole) * 100)}%)` : '');
      console.log(
        table([
          ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
          [
            'Images',
            String(new Set(images.map((i) => i.digest)).size),
            String(new Set(images.map((i) => i.digest).filter((d) => pinned.has(d))).size),
            humanSize(stored),
            `${humanSize(free.freedBytes)}${pct(free.freedBytes, stored)}`,
          ],
          [
            'Local Volumes',
            String(names.length),
            String(names.filter((n) => mounted.has(n)).length),
            humanSize(volumeBytes),
            `${humanSize(idleBytes)}${pct(idleBytes, volumeBytes)}`,
          ],
          // Made again when needed, so all of it can be freed.
          [
            'Build Cache',
            String(cache.entries),
            '0',
            humanSize(cache.bytes),
            `${humanSize(cache.bytes)}${pct(cache.bytes, cache.bytes)}`,
          ],
        ]),
      );
      return 0;
    }
    if (verb === 'prune') {
      if (values.volumes && !values.force) throw new UsageError('--volumes removes data: add -f to say you mean it');
      const r = await collectGarbage(store.images);
      const cache = await clearCache(cacheDir(store.dir));
      let volumeCount = 0;
      if (values.volumes) {
        for (const name of await volumes.list()) {
          if (mounted.has(name)) continue;
          await store.lock([volumeLockName(name)], () => volumes.remove(name));
          volumeCount++;
        }
      }
      console.log(
        `freed ${humanSize(r.freedBytes)} in ${r.removedBlobs} blobs, ${humanSize(cache.bytes)} of build cache` +
          (values.volumes ? `; removed ${volumeCount} volumes` : ''),
      );
      return 0;
    }
    throw new UsageError(verb === undefined ? 'needs df or prune' : `unknown system command ${JSON.stringify(verb)}`);
  },
});
