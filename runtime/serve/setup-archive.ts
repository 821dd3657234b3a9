// "Export my setup": every stored image and every service in one file another laptop imports —
// an OCI image-layout tar (so image tools read it too) with a `berth-setup.json` beside index.json.
// Seed links (`/?seed=<url>`) accept such a file, a plain image archive, a `seed.json`, or the URL
// of an OCI layout folder served over HTTP (with an optional `berth-setup.json` in it).
import { RecordTable } from '../content/index.ts';
import { RuntimeError } from '../core/index.ts';
import { ImageStore, importLayout, loadImagesFromFiles, readArchiveFiles, saveImages, type LoadOptions } from '../images/index.ts';
import { bindServices, httpLayoutReader, importSeed, type SeedProgress, type SeedResult, type SeedService } from './seed.ts';
import type { ServiceRecord } from './service-record.ts';
import { type RunContext } from '../run/index.ts';

export const SETUP_FILE = 'berth-setup.json';

export interface SetupDescription {
  version: 1;
  services: SeedService[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function describeServices(services: ServiceRecord[]): SetupDescription {
  return {
    version: 1,
    services: services.map((s) => ({ name: s.name, image: s.image, mode: s.mode, volumes: s.volumes, env: s.env, args: s.args, ...(s.limits ? { limits: s.limits } : {}), ...(s.trusted ? { trusted: true } : {}), ...(s.allowCrossSite ? { allowCrossSite: true } : {}) })),
  };
}

export async function exportSetup(ctx: Pick<RunContext, 'content' | 'records'>): Promise<Uint8Array> {
  const store = new ImageStore(ctx);
  const table = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const services = (await Promise.all((await table.keys()).map((k) => table.get(k)))).filter((s): s is ServiceRecord => !!s);
  const images = await store.list();
  // A service pinned to a digest its reference no longer names is exported under the digest's image.
  const setup = describeServices(services.map((s) => ({ ...s, image: images.find((i) => i.digest === s.imageDigest)?.ref ?? s.image })));
  return saveImages(store, images.map((i) => i.ref), new Map([[SETUP_FILE, enc.encode(JSON.stringify(setup, null, 2))]]));
}

/** Imports an image archive; binds the services a setup file in it declares. */
export async function importSetupArchive(ctx: Pick<RunContext, 'content' | 'records'>, archive: ReadableStream<Uint8Array>, options: LoadOptions = {}): Promise<SeedResult> {
  const files = await readArchiveFiles(archive);
  const images = await loadImagesFromFiles(new ImageStore(ctx), files, options);
  const setup = files.get(SETUP_FILE);
  return { images, services: setup ? await bindServices(ctx, parseSetup(setup).services, images) : [] };
}

function parseSetup(bytes: Uint8Array): SetupDescription {
  const setup = JSON.parse(dec.decode(bytes)) as SetupDescription;
  if (setup.version !== 1 || !Array.isArray(setup.services)) throw new RuntimeError('invalid-argument', `${SETUP_FILE} is not a version 1 setup description`);
  return setup;
}

/** What a `?seed=` link points at: a seed.json, a tar, or an OCI layout folder. */
export async function importFromLink(ctx: Pick<RunContext, 'content' | 'records'>, url: string, fetchFn: typeof fetch = fetch, onProgress?: (p: SeedProgress) => void): Promise<SeedResult> {
  const path = new URL(url).pathname;
  if (path.endsWith('.json')) return importSeed(ctx, url, fetchFn, onProgress);
  if (path.endsWith('.tar')) {
    const res = await fetchFn(url);
    if (!res.ok || !res.body) throw new RuntimeError('unavailable', `fetching ${url} failed: HTTP ${res.status}`);
    return importSetupArchive(ctx, res.body, { onProgress });
  }
  const base = url.endsWith('/') ? url : `${url}/`;
  const images = await importLayout(new ImageStore(ctx), httpLayoutReader(base, fetchFn), { onProgress });
  const setup = await fetchFn(new URL(SETUP_FILE, base).href);
  return { images, services: setup.ok ? await bindServices(ctx, parseSetup(new Uint8Array(await setup.arrayBuffer())).services, images) : [] };
}
