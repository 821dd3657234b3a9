// Image archives for sharing: `berth save` writes an OCI image-layout tar (what `skopeo inspect
// oci-archive:` and `podman load` read); `berth load` reads that, or a `docker save` tar
// (manifest.json + config + uncompressed layer tars), into the store.
import { MediaType, RuntimeError, sha256, type Descriptor, type Digest, type ImageManifest } from '../core/index.ts';
import { decompressLayer, normalizeTarPath, readTar, writeTar } from '../layers/index.ts';
import type { ImageRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import { importLayout, type ImportOptions } from './import-layout.ts';
import { layoutFiles, type LayoutReader } from './oci-layout.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function blobBytes(store: ImageStore, digest: Digest, ref: string): Promise<Uint8Array> {
  const b = await store.content.get(digest);
  if (!b)
    throw new RuntimeError('data-loss', `blob ${digest} of ${ref} is missing from the store; pull the image again`);
  return new Uint8Array(await b.arrayBuffer());
}

/** The files of an OCI image layout holding the named images (each under its full reference). */
export async function exportLayoutFiles(store: ImageStore, refs: string[]): Promise<Map<string, Uint8Array>> {
  const blobs = new Map<Digest, Uint8Array>();
  const named: { name: string; manifest: Descriptor }[] = [];
  for (const ref of refs) {
    const image = await store.require(ref);
    const manifestBytes = await blobBytes(store, image.digest, image.ref);
    blobs.set(image.digest, manifestBytes);
    for (const d of [image.manifest.config, ...image.manifest.layers])
      blobs.set(d.digest, await blobBytes(store, d.digest, image.ref));
    named.push({
      name: image.ref,
      manifest: {
        mediaType: image.mediaType,
        digest: image.digest,
        size: manifestBytes.length,
        platform: image.platform,
        annotations: { 'io.containerd.image.name': image.ref },
      },
    });
  }
  return layoutFiles(blobs, named);
}

/** An OCI image-layout tar holding the named images, plus any `extraFiles` (e.g. a setup description). */
export async function saveImages(
  store: ImageStore,
  refs: string[],
  extraFiles: Map<string, Uint8Array> = new Map(),
): Promise<Uint8Array> {
  const files = await exportLayoutFiles(store, refs);
  const entries: Parameters<typeof writeTar>[0] = [
    { path: 'blobs', type: 'dir', mode: 0o755 },
    { path: 'blobs/sha256', type: 'dir', mode: 0o755 },
  ];
  for (const [path, data] of files) entries.push({ path, type: 'file', mode: 0o644, data });
  for (const [path, data] of extraFiles) entries.push({ path, type: 'file', mode: 0o644, data });
  return writeTar(entries);
}

/**
 * A `docker save` tar (docker-archive, what `docker load` and `podman load` read for several images):
 * manifest.json listing each image's config, tags and uncompressed layer tars. A layer's tar is the
 * stored one where the store keeps tars, else the compressed blob gunzipped.
 */
export async function saveDockerArchive(store: ImageStore, refs: string[]): Promise<Uint8Array> {
  const entries: Parameters<typeof writeTar>[0] = [];
  const written = new Set<string>();
  const manifest: DockerSaveEntry[] = [];
  const byDigest = new Map<string, DockerSaveEntry>();
  for (const ref of refs) {
    const image = await store.require(ref);
    const seen = byDigest.get(image.digest);
    // RepoTags are name:tag; an image known by digest only is saved untagged (load --ref names it).
    const tags = ref.startsWith('sha256:') || image.ref.includes('@') ? [] : [image.ref];
    if (seen) {
      seen.RepoTags = [...(seen.RepoTags ?? []), ...tags];
      continue;
    }
    const configPath = `${image.configDigest.slice(7)}.json`;
    if (!written.has(configPath)) {
      entries.push({
        path: configPath,
        type: 'file',
        mode: 0o644,
        data: await blobBytes(store, image.configDigest, image.ref),
      });
      written.add(configPath);
    }
    const layers: string[] = [];
    for (const l of image.layers) {
      const path = `${l.diffId.slice(7)}/layer.tar`;
      if (!written.has(path)) {
        entries.push({ path: l.diffId.slice(7), type: 'dir', mode: 0o755 });
        entries.push({ path, type: 'file', mode: 0o644, data: await layerTarBytes(store, l, image.ref) });
        written.add(path);
      }
      layers.push(path);
    }
    const entry: DockerSaveEntry = {
      Config: configPath,
      RepoTags: tags,
      Layers: layers,
    };
    byDigest.set(image.digest, entry);
    manifest.push(entry);
  }
  entries.push({ path: 'manifest.json', type: 'file', mode: 0o644, data: enc.encode(JSON.stringify(manifest)) });
  return writeTar(entries);
}

async function layerTarBytes(
  store: ImageStore,
  layer: { digest: Digest; diffId: Digest; mediaType: string },
  ref: string,
): Promise<Uint8Array> {
  const tar = await store.content.get(layer.diffId);
  if (tar) return new Uint8Array(await tar.arrayBuffer());
  const blob = await store.content.get(layer.digest);
  if (!blob)
    throw new RuntimeError(
      'data-loss',
      `layer ${layer.digest} of ${ref} is missing from the store; pull the image again`,
    );
  const stream = decompressLayer(blob.stream() as ReadableStream<Uint8Array>, layer.mediaType, {
    codecs: store.content.codecs,
  });
  const bytes = new Uint8Array(await new Response(stream as ReadableStream<Uint8Array<ArrayBuffer>>).arrayBuffer());
  if ((await sha256(bytes)) !== layer.diffId)
    throw new RuntimeError('data-loss', `layer ${layer.digest} of ${ref} does not unpack to its diff_id`);
  return bytes;
}

/** What berth reads of an archive, which it holds in memory whole (4 GiB). */
export const MAX_ARCHIVE_BYTES = 4 * 2 ** 30;

/**
 * Every regular file of a tar, by normalised path; RuntimeError 'resource-exhausted' once more than
 * `maxBytes` arrived (before, nothing stopped it: 1 MiB of gzip sent with Content-Encoding took a
 * link's page to 2 GiB before it asked the user anything).
 */
export async function readArchiveFiles(
  stream: ReadableStream<Uint8Array>,
  maxBytes = MAX_ARCHIVE_BYTES,
): Promise<Map<string, Uint8Array>> {
  let seen = 0;
  const counted = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.length;
        if (seen > maxBytes)
          throw new RuntimeError(
            'resource-exhausted',
            `the archive is larger than ${maxBytes} bytes, which is what berth reads of one`,
          );
        controller.enqueue(chunk);
      },
    }),
  );
  const files = new Map<string, Uint8Array>();
  for await (const entry of readTar(counted)) {
    if (entry.type !== 'file') continue;
    files.set(normalizeTarPath(entry.path), await entry.bytes());
  }
  return files;
}

function mapReader(files: Map<string, Uint8Array>, what: string): LayoutReader {
  return {
    async read(path) {
      const f = files.get(path);
      if (!f) throw new RuntimeError('not-found', `${what} has no ${path}`);
      return f;
    },
  };
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** Turns a `docker save` tar into an OCI layout in memory (layers stay uncompressed tars). */
async function dockerSaveToLayout(
  files: Map<string, Uint8Array>,
  defaultRef?: string,
): Promise<Map<string, Uint8Array>> {
  let list: unknown;
  try {
    list = JSON.parse(dec.decode(files.get('manifest.json')!));
  } catch (e) {
    throw new RuntimeError(
      'invalid-argument',
      `manifest.json of the docker archive is not JSON: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const valid = (e: unknown): e is DockerSaveEntry => {
    if (!e || typeof e !== 'object') return false;
    const { Config, Layers, RepoTags } = e as Record<string, unknown>;
    // RepoTags: names, or none (a string would be read as a list of one-letter names).
    return typeof Config === 'string' && strings(Layers) && (RepoTags == null || strings(RepoTags));
  };
  if (!Array.isArray(list) || !list.every(valid)) {
    throw new RuntimeError(
      'invalid-argument',
      'manifest.json of the docker archive is not a list of {Config, RepoTags, Layers}',
    );
  }
  const blobs = new Map<Digest, Uint8Array>();
  const refs: { name: string; manifest: Descriptor }[] = [];
  const need = (p: string) => {
    const f = files.get(normalizeTarPath(p));
    if (!f) throw new RuntimeError('invalid-argument', `the docker archive names ${p}, which it does not contain`);
    return f;
  };
  for (const [i, entry] of list.entries()) {
    const config = need(entry.Config);
    const configDigest = await sha256(config);
    blobs.set(configDigest, config);
    const layers: Descriptor[] = [];
    for (const l of entry.Layers) {
      const bytes = need(l);
      const digest = await sha256(bytes);
      blobs.set(digest, bytes);
      layers.push({ mediaType: MediaType.OciLayer, digest, size: bytes.length });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
      layers,
    };
    const bytes = enc.encode(JSON.stringify(manifest));
    const digest = await sha256(bytes);
    blobs.set(digest, bytes);
    const tags = entry.RepoTags?.length ? entry.RepoTags : [defaultRef ?? `docker-archive/image-${i}:latest`];
    for (const name of tags)
      refs.push({ name, manifest: { mediaType: MediaType.OciManifest, digest, size: bytes.length } });
  }
  return layoutFiles(blobs, refs);
}

export type LoadOptions = ImportOptions;

/** Loads every image of an OCI layout tar or a `docker save` tar. */
export async function loadImages(
  store: ImageStore,
  archive: ReadableStream<Uint8Array>,
  options: LoadOptions = {},
): Promise<ImageRecord[]> {
  return loadImagesFromFiles(store, await readArchiveFiles(archive), options);
}

/**
 * Loads the images of an archive already read into files (see readArchiveFiles): a `docker save`
 * tar is first turned into a layout; then, like any layout, through the one ingest pipeline.
 */
export async function loadImagesFromFiles(
  store: ImageStore,
  archiveFiles: Map<string, Uint8Array>,
  options: LoadOptions = {},
): Promise<ImageRecord[]> {
  return importLayout(store, await archiveLayoutReader(archiveFiles, options.defaultRef), {
    label: 'the archive',
    ...options,
  });
}

/** An archive read into files (see readArchiveFiles) as an OCI layout: a `docker save` tar is turned into one. */
export async function archiveLayoutReader(
  archiveFiles: Map<string, Uint8Array>,
  defaultRef?: string,
): Promise<LayoutReader> {
  let files = archiveFiles;
  if (!files.has('oci-layout')) {
    if (!files.has('manifest.json'))
      throw new RuntimeError(
        'invalid-argument',
        'the archive is neither an OCI image layout (no oci-layout file) nor a docker save tar (no manifest.json)',
      );
    files = await dockerSaveToLayout(files, defaultRef);
  }
  return mapReader(files, 'the archive');
}
