// `berth build-seed`: packs every example under examples/*/example.json into an OCI image layout
// under public/seed/, with a seed.json the app imports on install, so berth works with no registry.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { layoutFiles, packImage } from '../runtime/images/index.ts';
import type { SeedManifest, SeedService } from '../runtime/host/index.ts';

interface ExampleSpec {
  ref: string;
  wasm: string;
  dirs?: string[];
  env?: Record<string, string>;
  labels?: Record<string, string>;
  service?: Omit<SeedService, 'image'>;
}

export async function buildSeed(options: { examplesDir: string; outDir: string; log?: (s: string) => void }): Promise<SeedManifest> {
  const log = options.log ?? (() => {});
  const seed: SeedManifest = { version: 1, images: [], services: [] };
  await rm(options.outDir, { recursive: true, force: true });
  for (const name of (await readdir(options.examplesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const dir = join(options.examplesDir, name);
    let spec: ExampleSpec;
    try {
      spec = JSON.parse(await readFile(join(dir, 'example.json'), 'utf8')) as ExampleSpec;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const packed = await packImage({ wasm: new Uint8Array(await readFile(join(dir, spec.wasm))), dirs: spec.dirs, env: spec.env, labels: spec.labels });
    const files = layoutFiles(packed.blobs, [{ name: spec.ref, manifest: packed.manifestDescriptor }]);
    for (const [path, bytes] of files) {
      const out = join(options.outDir, name, path);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, bytes);
    }
    seed.images.push({ layout: `${name}/`, ref: spec.ref });
    if (spec.service) seed.services.push({ ...spec.service, image: spec.ref });
    log(`seed: ${spec.ref} ${packed.manifestDescriptor.digest}`);
  }
  await writeFile(join(options.outDir, 'seed.json'), JSON.stringify(seed, null, 2));
  return seed;
}
