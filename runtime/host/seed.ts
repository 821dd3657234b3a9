// Seeds: images and services shipped with the app (or behind a workshop link) as OCI image layouts
// plus a `seed.json` that names them. Importing is idempotent: a stored image with the same digest
// is kept, and a service the user already has is left as the user set it.
import { RuntimeError } from '../core/index.ts';
import { RecordTable } from '../content/index.ts';
import { importLayout, ImageStore, type LayoutReader } from '../images/index.ts';
import type { ImageRecord } from '../images/index.ts';
import type { HostContext } from './serve-request.ts';
import { checkServiceName, type ServiceMode, type ServiceRecord, type VolumeMount } from './service-record.ts';

export interface SeedService {
  name: string;
  image: string;
  mode?: ServiceMode;
  volumes?: VolumeMount[];
  env?: Record<string, string>;
  args?: string[];
}

export interface SeedManifest {
  version: 1;
  /** Layout folders, relative to the seed.json URL. */
  images: { layout: string; ref: string }[];
  services: SeedService[];
}

export function httpLayoutReader(base: string, fetchFn: typeof fetch = fetch): LayoutReader {
  const root = base.endsWith('/') ? base : `${base}/`;
  return {
    async read(path) {
      const url = new URL(path, root).href;
      const res = await fetchFn(url);
      if (res.status === 404) throw new RuntimeError('not-found', `${url} is missing from the layout`);
      if (!res.ok) throw new RuntimeError('unavailable', `fetching ${url} failed: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

export interface SeedResult {
  images: ImageRecord[];
  services: string[];
}

export async function importSeed(ctx: Pick<HostContext, 'content' | 'records'>, seedUrl: string, fetchFn: typeof fetch = fetch): Promise<SeedResult> {
  const res = await fetchFn(seedUrl);
  if (!res.ok) throw new RuntimeError('unavailable', `fetching the seed list ${seedUrl} failed: HTTP ${res.status}`);
  const seed = (await res.json()) as SeedManifest;
  if (seed.version !== 1) throw new RuntimeError('invalid-argument', `seed list ${seedUrl} has unsupported version ${seed.version}`);
  const store = new ImageStore(ctx);
  const images: ImageRecord[] = [];
  for (const entry of seed.images) {
    const existing = await store.get(entry.ref);
    if (existing) {
      images.push(existing);
      continue;
    }
    images.push(...(await importLayout(store, httpLayoutReader(new URL(entry.layout, seedUrl).href, fetchFn), { defaultRef: entry.ref })));
  }
  const services = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const created: string[] = [];
  for (const s of seed.services) {
    checkServiceName(s.name);
    if (await services.get(s.name)) continue;
    const image = images.find((i) => i.ref === s.image) ?? (await store.require(s.image));
    await services.put(s.name, {
      name: s.name,
      image: s.image,
      imageDigest: image.digest,
      env: s.env,
      args: s.args,
      mode: s.mode ?? 'raw',
      volumes: s.volumes ?? [],
      created: Date.now(),
    });
    created.push(s.name);
  }
  return { images, services: created };
}
