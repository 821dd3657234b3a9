// `berth build-seed`: what the app ships pre-seeded. Every examples/*/example.json is packed into
// an OCI image layout under public/seed/, and a workshop config (`--config FILE`, default
// berth.seed.json when it exists) adds images from registries or from layout dirs/tars, and
// services. seed.json lists them all; the app's Service Worker imports them on install, so the
// first load works offline with no registry.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FsContentStore } from '../runtime/content/fs-content-store.ts';
import { FsRecords } from '../runtime/content/fs-record-store.ts';
import { nodeCodecs } from '../runtime/content/node-codecs.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import {
  exportLayoutFiles,
  ImageStore,
  importLayout,
  layoutFiles,
  loadImages,
  packImage,
  pullImage,
  checkSignatureRequirement,
  type TrustPolicy,
} from '../runtime/images/index.ts';
import { checkSeedService, type SeedManifest, type SeedService } from '../runtime/serve/index.ts';
import { formatReference, parseReference, RegistryClient } from '../runtime/registry/index.ts';

interface ExampleSpec {
  ref: string;
  wasm: string;
  dirs?: string[];
  env?: Record<string, string>;
  labels?: Record<string, string>;
  service?: Omit<SeedService, 'image'>;
}

/** A workshop's build-time seed config. */
export interface SeedConfig {
  images?: ({ ref: string; insecure?: boolean } | { layout: string; ref?: string })[];
  services?: SeedService[];
  /** Checked for the registry images at build time, and shipped as the app's default policy. */
  trust?: TrustPolicy;
}

async function writeLayout(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of files) {
    const out = join(dir, path);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, bytes);
  }
}

function slug(ref: string): string {
  return ref.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export async function buildSeed(options: {
  examplesDir: string;
  outDir: string;
  config?: string;
  log?: (s: string) => void;
}): Promise<SeedManifest> {
  const log = options.log ?? (() => {});
  const seed: SeedManifest = { version: 1, images: [], services: [] };
  await rm(options.outDir, { recursive: true, force: true });
  const examples = existsSync(options.examplesDir)
    ? (await readdir(options.examplesDir, { withFileTypes: true }))
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  for (const name of examples) {
    const dir = join(options.examplesDir, name);
    let spec: ExampleSpec;
    try {
      spec = JSON.parse(await readFile(join(dir, 'example.json'), 'utf8')) as ExampleSpec;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const packed = await packImage({
      codecs: nodeCodecs, // as berth pack: the same program packs to the same image
      wasm: new Uint8Array(await readFile(join(dir, spec.wasm))),
      dirs: spec.dirs,
      env: spec.env,
      labels: spec.labels,
    });
    await writeLayout(
      join(options.outDir, name),
      layoutFiles(packed.blobs, [{ name: spec.ref, manifest: packed.manifestDescriptor }]),
    );
    seed.images.push({ layout: `${name}/`, ref: spec.ref });
    if (spec.service) seed.services.push({ ...spec.service, image: spec.ref });
    log(`seed: ${spec.ref} ${packed.manifestDescriptor.digest}`);
  }

  if (options.config) {
    const configDir = dirname(resolve(options.config));
    const config = JSON.parse(await readFile(options.config, 'utf8')) as SeedConfig;
    const req = config.trust?.requireSignature;
    if (req) {
      // A trusted root may be written inline; the policy keeps its text. A bad policy fails the build, not a pull.
      if (req.trustedRoot !== undefined && typeof req.trustedRoot !== 'string')
        req.trustedRoot = JSON.stringify(req.trustedRoot);
      await checkSignatureRequirement(req);
    }
    if (config.trust) seed.trust = config.trust;
    // Every door applies the config's policy, as a pull does: layouts and tars too.
    const policy = config.trust ? { policy: config.trust } : {};
    const work = await mkdtemp(join(tmpdir(), 'berth-seed-'));
    try {
      const store = new ImageStore({ content: new FsContentStore(work), records: new FsRecords(work) });
      for (const entry of config.images ?? []) {
        let refs: string[];
        if ('layout' in entry) {
          const path = resolve(configDir, entry.layout);
          if (path.endsWith('.tar')) {
            refs = (
              await loadImages(store, (await openAsBlob(path)).stream() as ReadableStream<Uint8Array>, {
                defaultRef: entry.ref,
                ...policy,
              })
            ).map((i) => i.ref);
          } else {
            const reader = {
              read: async (p: string) =>
                new Uint8Array(
                  await readFile(join(path, p)).catch(() =>
                    Promise.reject(new RuntimeError('not-found', `${path} has no ${p}`)),
                  ),
                ),
            };
            refs = (await importLayout(store, reader, { defaultRef: entry.ref, ...policy })).map((i) => i.ref);
          }
        } else {
          const ref = parseReference(entry.ref);
          const image = await pullImage(
            store,
            new RegistryClient({ insecureRegistries: entry.insecure ? [ref.registry] : [] }),
            ref,
            policy,
          );
          refs = [image.ref];
        }
        for (const ref of refs) {
          const dir = `config-${slug(ref)}`;
          await writeLayout(join(options.outDir, dir), await exportLayoutFiles(store, [ref]));
          seed.images.push({ layout: `${dir}/`, ref });
          log(`seed: ${ref} (from ${'layout' in entry ? entry.layout : 'its registry'})`);
        }
      }
      for (const s of config.services ?? []) {
        checkSeedService(s);
        const image = (() => {
          try {
            return formatReference(parseReference(s.image));
          } catch {
            return s.image;
          }
        })();
        const known = seed.images.find((i) => i.ref === s.image || i.ref === image);
        if (!known)
          throw new RuntimeError(
            'invalid-argument',
            `seed config: service ${s.name} names image ${s.image}, which the config does not list`,
          );
        seed.services = seed.services.filter((x) => x.name !== s.name);
        seed.services.push({ ...s, image: known.ref });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'seed.json'), JSON.stringify(seed, null, 2));
  return seed;
}
