// Image archives for sharing: `berth save` writes an OCI image-layout tar (what `skopeo inspect
// oci-archive:` and `podman load` read); `berth load` reads that, or a `docker save` tar
// (manifest.json + config + uncompressed layer tars), into the store.
import { MediaType, RuntimeError, sha256, type Descriptor, type Digest, type ImageManifest } from '../core/index.ts';
import { normalizeTarPath, readTar, writeTar } from '../layers/index.ts';
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

/** Every regular file of a tar, by normalised path. */
export async function readArchiveFiles(stream: ReadableStream<Uint8Array>): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const entry of readTar(stream)) {
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
async function dockerSaveToLayout(files: Map<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
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
  const valid = (e: unknown): e is DockerSaveEntry =>
    !!e &&
    typeof e === 'object' &&
    typeof (e as DockerSaveEntry).Config === 'string' &&
    Array.isArray((e as DockerSaveEntry).Layers) &&
    (e as DockerSaveEntry).Layers.every((l) => typeof l === 'string');
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
    const tags = entry.RepoTags?.length ? entry.RepoTags : [`docker-archive/image-${i}:latest`];
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
  return importLayout(store, await archiveLayoutReader(archiveFiles), { label: 'the archive', ...options });
}

/** An archive read into files (see readArchiveFiles) as an OCI layout: a `docker save` tar is turned into one. */
export async function archiveLayoutReader(archiveFiles: Map<string, Uint8Array>): Promise<LayoutReader> {
  let files = archiveFiles;
  if (!files.has('oci-layout')) {
    if (!files.has('manifest.json'))
      throw new RuntimeError(
        'invalid-argument',
        'the archive is neither an OCI image layout (no oci-layout file) nor a docker save tar (no manifest.json)',
      );
    files = await dockerSaveToLayout(files);
  }
  return mapReader(files, 'the archive');
}
