// Importing images from an OCI image layout (a seed folder served over HTTP, a directory, a tar):
// every blob is verified while it is stored, layers are unpacked and indexed, and only then is the
// image record written.
import { MediaType, RuntimeError, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../core/index.ts';
import type { ImageRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import { blobPath, readLayoutIndex, REF_NAME_ANNOTATION, type LayoutReader } from './oci-layout.ts';
import { UnpackBudget, unpackLayer } from './unpack-layer.ts';
import { isWasmArtifact, storeWasmArtifact } from './wasm-artifact.ts';

export interface ImportProgress {
  ref: string;
  done: number;
  total: number;
}

export interface ImportOptions {
  /** Name to give an image whose index entry has no ref.name annotation. */
  defaultRef?: string;
  onProgress?: (p: ImportProgress) => void;
}

const dec = new TextDecoder();
const INDEX_TYPES: string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
const WASM_PLATFORMS: Platform[] = [
  { os: 'wasi', architecture: 'wasm' },
  { os: 'wasip1', architecture: 'wasm' },
];

export async function importLayout(store: ImageStore, reader: LayoutReader, options: ImportOptions = {}): Promise<ImageRecord[]> {
  const index = await readLayoutIndex(reader);
  const out: ImageRecord[] = [];
  for (const desc of index.manifests) {
    const ref = desc.annotations?.[REF_NAME_ANNOTATION] ?? options.defaultRef;
    if (!ref) throw new RuntimeError('invalid-argument', `layout manifest ${desc.digest} has no ${REF_NAME_ANNOTATION} annotation and no name was given`);
    out.push(await importManifest(store, reader, desc, ref, options));
  }
  return out;
}

async function fetchVerified(store: ImageStore, reader: LayoutReader, desc: Descriptor): Promise<Uint8Array> {
  const bytes = await reader.read(blobPath(desc.digest));
  await store.content.put({ digest: desc.digest, size: desc.size }, bytes);
  return bytes;
}

async function importManifest(store: ImageStore, reader: LayoutReader, desc: Descriptor, ref: string, options: ImportOptions): Promise<ImageRecord> {
  let manifestDesc = desc;
  let bytes = await fetchVerified(store, reader, desc);
  let doc = JSON.parse(dec.decode(bytes)) as ImageManifest | ImageIndex;
  if (INDEX_TYPES.includes(desc.mediaType) || 'manifests' in doc) {
    const candidates = (doc as ImageIndex).manifests;
    const chosen = candidates.find((m) => WASM_PLATFORMS.some((p) => m.platform?.os === p.os && m.platform?.architecture === p.architecture));
    if (!chosen) {
      const offered = candidates.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : 'unknown')).join(', ');
      throw new RuntimeError('not-found', `${ref} has no wasi/wasm image (it offers: ${offered || 'nothing'})`);
    }
    manifestDesc = chosen;
    bytes = await fetchVerified(store, reader, chosen);
    doc = JSON.parse(dec.decode(bytes)) as ImageManifest;
  }
  const manifest = doc as ImageManifest;
  if (manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new RuntimeError('invalid-argument', `${ref}: manifest ${manifestDesc.digest} is not an image manifest`);
  }
  const total = manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0);
  let done = 0;
  const configBytes = await fetchVerified(store, reader, manifest.config);
  done += manifest.config.size;
  if (isWasmArtifact(manifest)) {
    for (const layer of manifest.layers) await fetchVerified(store, reader, layer);
    const stored = await storeWasmArtifact(store, manifest, configBytes);
    const record: ImageRecord = {
      ref,
      digest: manifestDesc.digest,
      mediaType: manifestDesc.mediaType,
      manifest,
      configDigest: stored.configDigest,
      artifactConfigDigest: stored.artifactConfigDigest,
      config: stored.config,
      platform: { os: stored.config.os, architecture: stored.config.architecture },
      layers: stored.layers,
      size: manifestDesc.size + total,
      stored: Date.now(),
    };
    await store.images.put(ref, record);
    options.onProgress?.({ ref, done: total, total });
    return record;
  }
  const config = JSON.parse(dec.decode(configBytes)) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new RuntimeError('invalid-argument', `${ref}: the config lists ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
  }
  options.onProgress?.({ ref, done, total });
  const budget = new UnpackBudget();
  for (const [i, layer] of manifest.layers.entries()) {
    await fetchVerified(store, reader, layer);
    await unpackLayer(store, layer, diffIds[i], { budget });
    done += layer.size;
    options.onProgress?.({ ref, done, total });
  }
  const record: ImageRecord = {
    ref,
    digest: manifestDesc.digest,
    mediaType: manifestDesc.mediaType,
    manifest,
    configDigest: manifest.config.digest,
    config,
    platform: { os: config.os, architecture: config.architecture },
    layers: manifest.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i] })),
    size: manifestDesc.size + total,
    stored: Date.now(),
  };
  await store.images.put(ref, record);
  return record;
}
