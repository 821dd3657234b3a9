// "Export my setup": every stored image and every service in one file another laptop imports —
// an OCI image-layout tar (so image tools read it too) with a `berth-setup.json` beside index.json.
// Seed links (`/?seed=<url>`, link-plan.ts) accept such a file too.
import { RecordTable } from '../content/index.ts';
import { RuntimeError } from '../core/index.ts';
import { ImageStore, loadImagesFromFiles, readArchiveFiles, saveImages, type LoadOptions } from '../images/index.ts';
import { bindServices, type SeedResult, type SeedService } from './seed.ts';
import type { ServiceRecord } from './service-record.ts';
import type { RunContext } from '../run/index.ts';

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
    services: services.map((s) => ({
      name: s.name,
      image: s.image,
      mode: s.mode,
      volumes: s.volumes,
      env: s.env,
      args: s.args,
      ...(s.limits ? { limits: s.limits } : {}),
      ...(s.trusted ? { trusted: true } : {}),
      ...(s.allowCrossSite ? { allowCrossSite: true } : {}),
      ...(s.outgoingHosts?.length ? { outgoingHosts: s.outgoingHosts } : {}),
    })),
  };
}

export async function exportSetup(ctx: Pick<RunContext, 'content' | 'records'>): Promise<Uint8Array> {
  const store = new ImageStore(ctx);
  const table = ctx.records.table<ServiceRecord>(RecordTable.Services);
  const services = (await Promise.all((await table.keys()).map((k) => table.get(k)))).filter(
    (s): s is ServiceRecord => !!s,
  );
  const images = await store.list();
  // A service pinned to a digest its reference no longer names is exported under the digest's image.
  const setup = describeServices(
    services.map((s) => ({ ...s, image: images.find((i) => i.digest === s.imageDigest)?.ref ?? s.image })),
  );
  return saveImages(
    store,
    images.map((i) => i.ref),
    new Map([[SETUP_FILE, enc.encode(JSON.stringify(setup, null, 2))]]),
  );
}

/** Imports an image archive; binds the services a setup file in it declares. */
export async function importSetupArchive(
  ctx: Pick<RunContext, 'content' | 'records'>,
  archive: ReadableStream<Uint8Array>,
  options: LoadOptions = {},
): Promise<SeedResult> {
  const files = await readArchiveFiles(archive);
  const images = await loadImagesFromFiles(new ImageStore(ctx), files, options);
  const setup = files.get(SETUP_FILE);
  return { images, services: setup ? await bindServices(ctx, parseSetup(setup).services, images) : [] };
}

export function parseSetup(bytes: Uint8Array): SetupDescription {
  let setup: SetupDescription | null;
  try {
    setup = JSON.parse(dec.decode(bytes)) as SetupDescription | null;
  } catch (e) {
    throw new RuntimeError('invalid-argument', `${SETUP_FILE} is not JSON: ${(e as Error).message}`);
  }
  if (typeof setup !== 'object' || setup === null || setup.version !== 1 || !Array.isArray(setup.services))
    throw new RuntimeError('invalid-argument', `${SETUP_FILE} is not a version 1 setup description`);
  return setup;
}
