// Pulling an image from a registry into the store: resolve the reference, choose the platform,
// download every blob (each verified by the content store before it is committed), unpack and
// index the layers, and write the image record last, so a pull is all or nothing.
import { MediaType, RuntimeError, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../core/index.ts';
import { formatReference, parseReference, type Reference, type RegistryClient } from '../registry/index.ts';
import type { ImageLayerRecord, ImageRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import { withLease } from './lease.ts';
import { choosePlatform, DEFAULT_PLATFORMS } from './platform.ts';
import { checkPolicy, checkRegistryAllowed, type TrustPolicy } from './trust-policy.ts';
import { UnpackBudget, unpackLayer } from './unpack-layer.ts';
import { isWasmArtifactLayer, storeWasmArtifact } from './wasm-artifact.ts';

export interface LayerProgress {
  digest: Digest;
  size: number;
  done: number;
  state: 'waiting' | 'downloading' | 'cached' | 'verifying' | 'done';
}

export interface PullProgress {
  ref: string;
  phase: 'resolving' | 'downloading' | 'unpacking' | 'done';
  layers: LayerProgress[];
  done: number;
  total: number;
}

export interface PullOptions {
  platforms?: Platform[];
  onProgress?: (p: PullProgress) => void;
  /** Free space check before downloading (the browser's navigator.storage.estimate). */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  maxLayerSize?: number;
  /** Cap on the image's total uncompressed size. Default 16 GiB. */
  maxImageSize?: number;
  /** Layers downloaded at once. Default 3. */
  concurrency?: number;
  /** Refuse (RuntimeError 'permission-denied', nothing stored) images the policy does not allow. */
  policy?: TrustPolicy;
}

const MANIFEST_TYPES: string[] = [MediaType.OciManifest, MediaType.DockerManifest];
const INDEX_TYPES: string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
const CONFIG_TYPES: string[] = [MediaType.OciConfig, MediaType.DockerConfig, MediaType.WasmConfig];
const TAR_LAYER_TYPES: string[] = [
  MediaType.OciLayer, MediaType.OciLayerGzip, MediaType.OciLayerZstd, MediaType.DockerLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
];

const dec = new TextDecoder();

export async function pullImage(store: ImageStore, client: RegistryClient, input: string | Reference, options: PullOptions = {}): Promise<ImageRecord> {
  const ref = typeof input === 'string' ? parseReference(input) : input;
  const name = formatReference(ref);
  const progress: PullProgress = { ref: name, phase: 'resolving', layers: [], done: 0, total: 0 };
  const emit = () => options.onProgress?.({ ...progress, layers: progress.layers.map((l) => ({ ...l })) });
  emit();
  if (options.policy) checkRegistryAllowed(options.policy, ref);

  return withLease(store, 60 * 60 * 1000, async (lease) => {
    let top = await client.getManifest(ref);
    if (options.policy) await checkPolicy(options.policy, ref, top.digest, client);
    let indexDigest: Digest | undefined;
    let doc = JSON.parse(dec.decode(top.bytes)) as ImageManifest | ImageIndex;
    if (INDEX_TYPES.includes(top.mediaType) || (!('config' in doc) && 'manifests' in doc)) {
      await lease.add(top.digest);
      await store.content.put({ digest: top.digest }, top.bytes);
      indexDigest = top.digest;
      const chosen = choosePlatform((doc as ImageIndex).manifests, options.platforms ?? DEFAULT_PLATFORMS, name);
      top = await client.getManifest(ref, chosen.digest);
      doc = JSON.parse(dec.decode(top.bytes)) as ImageManifest;
    }
    const manifest = doc as ImageManifest;
    const manifestType = top.mediaType || manifest.mediaType || MediaType.OciManifest;
    if (!MANIFEST_TYPES.includes(manifestType) || manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
      throw new RuntimeError('invalid-argument', `${name}: ${top.digest} is not an OCI or Docker v2 image manifest (media type ${JSON.stringify(manifestType)})`);
    }
    if (!CONFIG_TYPES.includes(manifest.config.mediaType)) {
      throw new RuntimeError('invalid-argument', `${name}: config media type ${manifest.config.mediaType} is not an image or Wasm config`);
    }
    const wasmArtifact = manifest.config.mediaType === MediaType.WasmConfig || manifest.layers.some((l) => isWasmArtifactLayer(l.mediaType));
    for (const l of manifest.layers) {
      const ok = wasmArtifact ? isWasmArtifactLayer(l.mediaType) : TAR_LAYER_TYPES.includes(l.mediaType);
      if (!ok) throw new RuntimeError('invalid-argument', `${name}: layer ${l.digest} has media type ${l.mediaType}, which berth cannot unpack`);
    }
    if (wasmArtifact && manifest.layers.length !== 1) {
      throw new RuntimeError('invalid-argument', `${name}: a Wasm artifact must have exactly one module layer, it has ${manifest.layers.length}`);
    }

    progress.total = manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0);
    progress.layers = manifest.layers.map((l) => ({ digest: l.digest, size: l.size, done: 0, state: 'waiting' }));
    await checkSpace(store, manifest, progress.total * 2, name, options);

    for (const d of [top.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) await lease.add(d);
    await store.content.put({ digest: top.digest }, top.bytes);
    const configBytes = await fetchSmallBlob(store, client, ref, manifest.config);
    progress.done += manifest.config.size;
    progress.phase = 'downloading';
    emit();

    const queue = [...manifest.layers.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [i, layer] = next;
        const lp = progress.layers[i];
        if (await store.content.info(layer.digest)) {
          lp.state = 'cached';
        } else {
          lp.state = 'downloading';
          emit();
          const stream = await client.blobStream(ref, layer, (p) => {
            progress.done += p.done - lp.done;
            lp.done = p.done;
            emit();
          });
          lp.state = 'verifying';
          try {
            await store.content.put({ digest: layer.digest, size: layer.size }, stream);
          } catch (e) {
            if (e instanceof RuntimeError && e.code === 'resource-exhausted') {
              throw new RuntimeError('resource-exhausted', `not enough storage to pull ${name} (${progress.total} bytes to download): ${e.message}`, { cause: e });
            }
            throw e;
          }
          lp.state = 'done';
        }
        progress.done += layer.size - lp.done;
        lp.done = layer.size;
        emit();
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 3, Math.max(1, queue.length)) }, worker));

    progress.phase = 'unpacking';
    emit();
    const unpack = { maxLayerSize: options.maxLayerSize, budget: new UnpackBudget(options.maxImageSize) };
    let config: ImageConfig;
    let artifactConfigDigest: Digest | undefined;
    const layers: ImageLayerRecord[] = [];
    let configDigest = manifest.config.digest;
    if (wasmArtifact) {
      const stored = await storeWasmArtifact(store, manifest, configBytes, { ...unpack, protect: (d) => lease.add(d) });
      config = stored.config;
      configDigest = stored.configDigest;
      artifactConfigDigest = stored.artifactConfigDigest;
      layers.push(...stored.layers);
    } else {
      config = JSON.parse(dec.decode(configBytes)) as ImageConfig;
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== manifest.layers.length) {
        throw new RuntimeError('invalid-argument', `${name}: the config lists ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
      }
      for (const [i, layer] of manifest.layers.entries()) {
        await lease.add(diffIds[i]);
        await unpackLayer(store, layer, diffIds[i], unpack);
        layers.push({ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, diffId: diffIds[i] });
      }
    }

    const record: ImageRecord = {
      ref: name,
      digest: top.digest,
      ...(indexDigest ? { indexDigest } : {}),
      ...(artifactConfigDigest ? { artifactConfigDigest } : {}),
      mediaType: manifestType,
      manifest,
      configDigest,
      config,
      platform: { os: config.os, architecture: config.architecture },
      layers,
      size: top.bytes.length + progress.total,
      stored: Date.now(),
    };
    await store.images.put(name, record);
    progress.phase = 'done';
    progress.done = progress.total;
    emit();
    return record;
  });
}

async function fetchSmallBlob(store: ImageStore, client: RegistryClient, ref: Reference, desc: Descriptor): Promise<Uint8Array> {
  const have = await store.content.get(desc.digest);
  if (have) return new Uint8Array(await have.arrayBuffer());
  await store.content.put({ digest: desc.digest, size: desc.size }, await client.blobStream(ref, desc));
  return new Uint8Array(await (await store.content.get(desc.digest))!.arrayBuffer());
}

async function checkSpace(store: ImageStore, manifest: ImageManifest, needed: number, name: string, options: PullOptions): Promise<void> {
  if (!options.estimate) return;
  const { usage = 0, quota } = await options.estimate();
  if (quota === undefined) return;
  let missing = needed;
  for (const l of manifest.layers) if (await store.content.info(l.digest)) missing -= l.size * 2;
  if (missing > quota - usage) {
    throw new RuntimeError('resource-exhausted', `not enough storage to pull ${name}: it needs about ${missing} bytes, ${Math.max(0, quota - usage)} are free`);
  }
}
