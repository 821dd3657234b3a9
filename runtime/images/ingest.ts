// The one ingest pipeline: every door an image comes in by (a registry pull, an OCI layout dir or
// folder over HTTP, an image or setup archive, a seed) is an IngestSource, and `ingestImage` does
// the same thing for all of them, in this order:
//
//   1. the trust policy's registry part, before the source is asked anything;
//   2. resolve the reference to a manifest or an index (its bytes verified against its digest);
//   3. the trust policy hook (signature of the resolved digest), before anything is fetched;
//   4. an index: choose the platform (choosePlatform), fetch and verify the chosen manifest;
//   5. check the manifest against core's media-type table, every digest (sha256: + 64 lowercase
//      hex, before it names a file, a URL or a store key) and every declared size against the caps;
//   6. under a lease (so GC cannot race it), fetch and verify the config, then the layers,
//      `concurrency` at once, each in one streaming pass as it arrives (storeLayer): its blob into
//      the content store (verified before it is committed), decompressed, its tar stored (committed
//      only after the blob and the tar are verified) and indexed;
//   7. store config, manifest and index, and write the image record last (with the index digest
//      when the reference named an index).
//
// A refusal in steps 1-5 stores nothing; a bad blob in step 6 commits nothing of its own, and
// whatever an ingest that fails stored (blobs that were not in the store when it leased them, and
// their layer indexes) is garbage collected, by digest, once its lease has ended: what no image
// references goes, so the store holds what it held before. When the record replaces another image
// under the same reference, a service pinned to the old image keeps it (ImageStore.pinIfUsed).
import {
  mediaKind,
  MediaType,
  parseDigest,
  RuntimeError,
  sha256,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from '../core/index.ts';
import { parseReference, type Reference } from '../registry/index.ts';
import type { SignatureSource } from './cosign-verify.ts';
import type { ImageLayerRecord, ImageRecord } from './image-record.ts';
import { collectGarbage } from './gc.ts';
import { isDigestKey, type ImageStore } from './image-store.ts';
import { withLease } from './lease.ts';
import { choosePlatform, DEFAULT_PLATFORMS } from './platform.ts';
import { checkPolicy, checkRegistryAllowed, type TrustPolicy } from './trust-policy.ts';
import { storeLayer, UnpackBudget, UnpackDefaults, unpackLayer } from './unpack-layer.ts';
import { isWasmArtifactLayer, storeWasmArtifact } from './wasm-artifact.ts';

/** What an image's os and architecture may be. */
const PLATFORM_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** A manifest or index, as a source resolved a reference to it. */
export interface ResolvedImage {
  /** What the source says it is: a layout's index.json entry; a registry's Content-Type, digest and length. */
  descriptor: Descriptor;
  /** Its bytes (the pipeline checks them against the descriptor's digest and size). */
  bytes: Uint8Array;
}

/** Where images come from: a registry repository, an OCI layout (a dir, a folder over HTTP, an archive). */
export interface IngestSource {
  readonly kind: 'registry' | 'layout';
  /** For messages: `127.0.0.1:5000/berth/hello`, `the archive`, a URL. */
  readonly label: string;
  /** The manifest or index `ref` names. RuntimeError 'not-found' if the source has no such image. */
  resolve(ref: string): Promise<ResolvedImage>;
  /**
   * A blob's bytes (a config, a layer, or a manifest chosen from an index), or a stream of them.
   * Unverified: the pipeline checks size and digest before anything is used or committed. The
   * descriptor's digest has been validated; a source validates it again before it names a path.
   */
  blob(desc: Descriptor, onProgress?: (done: number) => void): Promise<Uint8Array | ReadableStream<Uint8Array>>;
  /** Where the trust policy reads the signatures of images of `ref`. */
  signatures(ref: Reference): SignatureSource;
}

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

export const IngestDefaults = {
  /** A manifest, an index or a config: 4 MiB (containerd's cap on manifests). */
  maxManifestSize: 4 * 2 ** 20,
  maxLayerSize: UnpackDefaults.maxLayerSize,
  maxImageSize: UnpackDefaults.maxImageSize,
  /** Layers fetched at once. */
  concurrency: 3,
  /** A lease lasts this long after its last addition (a killed ingest protects nothing for long). */
  leaseMs: 60 * 60 * 1000,
} as const;

export interface IngestOptions {
  /** Platforms to choose from an index, in order. Default wasi/wasm, then wasip1/wasm. */
  platforms?: Platform[];
  onProgress?: (p: PullProgress) => void;
  /** Free space check before fetching (the browser's navigator.storage.estimate). */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  /** Cap on a manifest's, an index's or a config's size. Default 4 MiB. */
  maxManifestSize?: number;
  /** Cap on one layer's size, as declared and as unpacked (decompression bombs). Default 4 GiB. */
  maxLayerSize?: number;
  /** Cap on the image's total size, as declared and as unpacked. Default 16 GiB. */
  maxImageSize?: number;
  /** Layers fetched at once. Default 3. */
  concurrency?: number;
  /** Refuse (RuntimeError 'permission-denied', nothing stored) images the policy does not allow. */
  policy?: TrustPolicy;
}

const dec = new TextDecoder();

function invalid(message: string): RuntimeError {
  return new RuntimeError('invalid-argument', message);
}

function show(s: unknown): string {
  const t = typeof s === 'string' ? s : String(s);
  return JSON.stringify(t.length > 100 ? `${t.slice(0, 100)}...` : t);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch (e) {
    throw new RuntimeError('invalid-argument', `${what} is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A descriptor from outside, checked before any of it is used: an object, a media type string, a
 * sha256 digest (`sha256:` + 64 lowercase hex), a size that is a whole number of bytes and at most
 * `max` (RuntimeError 'resource-exhausted' beyond it).
 */
export function checkDescriptor(d: unknown, what: string, max: number): Descriptor {
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw invalid(`${what} is not a descriptor`);
  const desc = d as Descriptor;
  parseDigest(desc.digest, `${what}: digest`);
  if (typeof desc.mediaType !== 'string') throw invalid(`${what} (${desc.digest}) has no media type`);
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw invalid(`${what} (${desc.digest}) declares a size of ${show(desc.size)}, not a whole number of bytes`);
  }
  if (desc.size > max) {
    throw new RuntimeError(
      'resource-exhausted',
      `${what} (${desc.digest}) declares ${desc.size} bytes, more than the limit of ${max}`,
    );
  }
  return desc;
}

/** RuntimeError 'data-loss' unless `bytes` are exactly what `desc` names. */
export async function verifyBlobBytes(
  bytes: Uint8Array,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
): Promise<void> {
  if (bytes.length !== desc.size)
    throw new RuntimeError('data-loss', `${what} ${desc.digest}: got ${bytes.length} bytes, expected ${desc.size}`);
  const actual = await sha256(bytes);
  if (actual !== desc.digest)
    throw new RuntimeError('data-loss', `${what} ${desc.digest}: content hashes to ${actual}; refusing it`);
}

/** Reads a whole small blob (at most `desc.size` bytes, which the caller capped) and verifies it. */
async function readVerified(
  data: Uint8Array | ReadableStream<Uint8Array>,
  desc: Descriptor,
  what: string,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) {
    bytes = data;
  } else {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = data.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > desc.size) {
          await reader.cancel().catch(() => {});
          throw new RuntimeError(
            'data-loss',
            `${what} ${desc.digest} is longer than the ${desc.size} bytes its descriptor declares`,
          );
        }
        chunks.push(value);
      }
    } finally {
      reader.releaseLock();
    }
    bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
  }
  await verifyBlobBytes(bytes, desc, what);
  return bytes;
}

/** Whether a manifest or index document is one: its media type (declared, else its own, else its shape) from the table. */
function documentType(
  declared: string | undefined,
  doc: unknown,
  what: string,
): { kind: 'manifest' | 'index'; mediaType: string } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid(`${what} is not a JSON object`);
  const d = doc as { mediaType?: unknown; manifests?: unknown; config?: unknown };
  const own = typeof d.mediaType === 'string' && d.mediaType ? d.mediaType : undefined;
  const mediaType =
    declared || own || (Array.isArray(d.manifests) && !d.config ? MediaType.OciIndex : MediaType.OciManifest);
  const kind = mediaKind(mediaType);
  if (kind !== 'manifest' && kind !== 'index') {
    throw invalid(`${what} is not an OCI or Docker v2 image manifest or index (media type ${show(mediaType)})`);
  }
  if (own && mediaKind(own) !== kind)
    throw invalid(`${what} is declared as ${show(mediaType)} but says it is ${show(own)}`);
  return { kind, mediaType };
}

function checkIndex(doc: unknown, what: string): ImageIndex {
  const index = doc as ImageIndex;
  if (
    index.schemaVersion !== 2 ||
    !Array.isArray(index.manifests) ||
    index.manifests.some((m) => !m || typeof m !== 'object' || Array.isArray(m))
  ) {
    throw invalid(`${what} is not an image index (schemaVersion 2 with a list of manifests)`);
  }
  return index;
}

interface CheckedManifest {
  manifest: ImageManifest;
  wasmArtifact: boolean;
  /** Config + layers, as declared. */
  total: number;
}

/** Step 5: the manifest's shape, media types (core's table), digests and declared sizes. */
function checkManifest(
  doc: unknown,
  what: string,
  limits: Required<Pick<IngestOptions, 'maxManifestSize' | 'maxLayerSize' | 'maxImageSize'>>,
): CheckedManifest {
  const manifest = doc as ImageManifest;
  if (
    manifest.schemaVersion !== 2 ||
    !manifest.config ||
    typeof manifest.config !== 'object' ||
    !Array.isArray(manifest.layers)
  ) {
    throw invalid(`${what} is not an image manifest (schemaVersion 2 with a config and layers)`);
  }
  const config = checkDescriptor(manifest.config, `${what}: the config`, limits.maxManifestSize);
  const layers = manifest.layers.map((l, i) => checkDescriptor(l, `${what}: layer ${i + 1}`, limits.maxLayerSize));
  const configKind = mediaKind(config.mediaType);
  if (configKind !== 'config' && configKind !== 'wasm-config') {
    throw invalid(`${what}: config media type ${show(config.mediaType)} is not an image or Wasm config`);
  }
  const wasmArtifact = configKind === 'wasm-config' || layers.some((l) => isWasmArtifactLayer(l.mediaType));
  for (const l of layers) {
    const ok = wasmArtifact ? mediaKind(l.mediaType) === 'wasm-layer' : mediaKind(l.mediaType) === 'layer';
    if (!ok) throw invalid(`${what}: layer ${l.digest} has media type ${show(l.mediaType)}, which berth cannot unpack`);
  }
  if (wasmArtifact && layers.length !== 1)
    throw invalid(`${what}: a Wasm artifact must have exactly one module layer, it has ${layers.length}`);
  const total = config.size + layers.reduce((a, l) => a + l.size, 0);
  if (total > limits.maxImageSize) {
    throw new RuntimeError(
      'resource-exhausted',
      `${what} declares ${total} bytes of config and layers, more than the limit of ${limits.maxImageSize}`,
    );
  }
  return { manifest, wasmArtifact, total };
}

/** The config's diff_ids, one validated digest per layer. */
function checkDiffIds(config: ImageConfig, layers: number, what: string): Digest[] {
  if (!config || typeof config !== 'object' || Array.isArray(config))
    throw invalid(`${what}: the config is not a JSON object`);
  const diffIds: unknown = config.rootfs?.diff_ids ?? [];
  if (!Array.isArray(diffIds)) throw invalid(`${what}: the config's rootfs.diff_ids is not a list`);
  if (diffIds.length !== layers)
    throw invalid(`${what}: the config lists ${diffIds.length} diff_ids for ${layers} layers`);
  return diffIds.map((d, i) => parseDigest(d, `${what}: diff_id ${i + 1} of the config`));
}

/**
 * Ingests the image `ref` names in `source` into `store`, as the header describes, and returns its
 * record (stored under `ref`). Refusals are RuntimeErrors: 'invalid-argument' (a media type berth
 * does not read, a digest that is not sha256:<64 hex>, a malformed document), 'data-loss' (bytes
 * that do not match their digest or size), 'not-found' (no such image, no platform of an index),
 * 'resource-exhausted' (a size past a cap, no storage), 'permission-denied' (the trust policy).
 */
export async function ingestImage(
  store: ImageStore,
  source: IngestSource,
  ref: string,
  options: IngestOptions = {},
): Promise<ImageRecord> {
  const limits = {
    maxManifestSize: options.maxManifestSize ?? IngestDefaults.maxManifestSize,
    maxLayerSize: options.maxLayerSize ?? IngestDefaults.maxLayerSize,
    maxImageSize: options.maxImageSize ?? IngestDefaults.maxImageSize,
  };
  const progress: PullProgress = { ref, phase: 'resolving', layers: [], done: 0, total: 0 };
  const emit = () => options.onProgress?.({ ...progress, layers: progress.layers.map((l) => ({ ...l })) });
  emit();

  // A digest names an image only as its identity (ImageStore keeps pinned images under theirs).
  if (isDigestKey(ref)) throw invalid(`${show(ref)} is a digest; an image needs a name to be stored under`);
  // A name is a reference at every door (an archive's or a link's names included: one with
  // bidirectional controls would show in the UI as another image's name).
  const parsedRef = parseReference(ref);
  // 1. The registry part of the policy needs no source: before asking it anything.
  if (options.policy) checkRegistryAllowed(options.policy, parsedRef);

  // The digests this ingest leased whose blobs were not stored yet: what a failure leaves behind.
  const fresh = new Set<Digest>();
  return withLease(store, IngestDefaults.leaseMs, async (leased) => {
    const lease = {
      async add(...digests: Digest[]) {
        const stored = await Promise.all(digests.map((d) => fresh.has(d) || store.content.info(d)));
        digests.forEach((d, i) => !stored[i] && fresh.add(d));
        await leased.add(...digests);
      },
    };
    // 2. Resolve.
    const resolved = await source.resolve(ref);
    const topDesc = checkDescriptor(resolved.descriptor, `${ref}: the manifest`, limits.maxManifestSize);
    await verifyBlobBytes(resolved.bytes, topDesc, `${ref}: manifest`);
    let doc = parseJson(resolved.bytes, `${ref}: manifest ${topDesc.digest}`);
    let type = documentType(topDesc.mediaType, doc, `${ref}: ${topDesc.digest}`);

    // 3. The trust policy hook: the digest the reference resolved to (for an index, the index: what `cosign sign REF` signs).
    const signature = options.policy
      ? await checkPolicy(options.policy, parsedRef, topDesc.digest, source.signatures(parsedRef))
      : undefined;

    // 4. An index: choose the platform.
    let index: { digest: Digest; bytes: Uint8Array } | undefined;
    let manifestDesc = topDesc;
    let manifestBytes = resolved.bytes;
    if (type.kind === 'index') {
      const candidates = checkIndex(doc, `${ref}: index ${topDesc.digest}`).manifests;
      const chosen = checkDescriptor(
        choosePlatform(candidates, options.platforms ?? DEFAULT_PLATFORMS, ref),
        `${ref}: the manifest chosen from index ${topDesc.digest}`,
        limits.maxManifestSize,
      );
      if (mediaKind(chosen.mediaType) !== 'manifest') {
        throw invalid(
          `${ref}: index ${topDesc.digest} chooses ${chosen.digest} of media type ${show(chosen.mediaType)}, not an image manifest`,
        );
      }
      index = { digest: topDesc.digest, bytes: resolved.bytes };
      manifestBytes = await readVerified(await source.blob(chosen), chosen, `${ref}: manifest`);
      manifestDesc = chosen;
      doc = parseJson(manifestBytes, `${ref}: manifest ${chosen.digest}`);
      type = documentType(chosen.mediaType, doc, `${ref}: ${chosen.digest}`);
      if (type.kind !== 'manifest')
        throw invalid(`${ref}: ${chosen.digest}, chosen from index ${topDesc.digest}, is itself an index`);
    }

    // 5. The manifest, against the table and the caps.
    const { manifest, wasmArtifact, total } = checkManifest(doc, `${ref}: manifest ${manifestDesc.digest}`, limits);
    progress.total = total;
    progress.layers = manifest.layers.map((l) => ({ digest: l.digest, size: l.size, done: 0, state: 'waiting' }));
    await checkSpace(store, manifest, total * 2, ref, source, options);

    // 6. Everything it will store, leased before the first write.
    await lease.add(
      manifestDesc.digest,
      ...(index ? [index.digest] : []),
      manifest.config.digest,
      ...manifest.layers.map((l) => l.digest),
    );
    const cachedConfig = await store.content.get(manifest.config.digest);
    const configBytes = cachedConfig
      ? new Uint8Array(await cachedConfig.arrayBuffer())
      : await readVerified(await source.blob(manifest.config), manifest.config, `${ref}: config`);
    const configDoc = parseJson(configBytes, `${ref}: config ${manifest.config.digest}`);
    const diffIds = wasmArtifact ? [] : checkDiffIds(configDoc as ImageConfig, manifest.layers.length, ref);
    await lease.add(...diffIds);
    progress.done += manifest.config.size;
    progress.phase = 'downloading';
    emit();

    const unpack = { maxLayerSize: limits.maxLayerSize, budget: new UnpackBudget(limits.maxImageSize) };
    await fetchLayers(
      source,
      manifest.layers,
      progress,
      emit,
      options.concurrency ?? IngestDefaults.concurrency,
      ref,
      async (i, layer, data, signal) => {
        if (data === undefined) {
          // Stored already: an image's layer may still need its tar and index.
          if (!wasmArtifact) await unpackLayer(store, layer, diffIds[i], unpack);
        } else if (wasmArtifact) {
          await store.content.put({ digest: layer.digest, size: layer.size }, data, { signal });
          if (data instanceof ReadableStream) await data.cancel().catch(() => {}); // unread if stored meanwhile
        } else {
          await storeLayer(store, layer, diffIds[i], data, { ...unpack, signal });
        }
      },
      (d) => store.content.info(d),
    );

    progress.phase = 'unpacking';
    emit();
    let config: ImageConfig;
    let configDigest = manifest.config.digest;
    let artifactConfigDigest: Digest | undefined;
    const layers: ImageLayerRecord[] = [];
    if (wasmArtifact) {
      await store.content.put({ digest: manifest.config.digest, size: manifest.config.size }, configBytes);
      const stored = await storeWasmArtifact(store, manifest, configBytes, { ...unpack, protect: (d) => lease.add(d) });
      config = stored.config;
      configDigest = stored.configDigest;
      artifactConfigDigest = stored.artifactConfigDigest;
      layers.push(...stored.layers);
    } else {
      config = configDoc as ImageConfig;
      for (const [i, layer] of manifest.layers.entries())
        layers.push({ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, diffId: diffIds[i] });
    }

    // A platform is a name (`wasip1`, `wasm`): shown in tables and the page, never text of its own.
    for (const [field, value] of [
      ['os', config.os],
      ['architecture', config.architecture],
    ] as const) {
      if (value !== undefined && (typeof value !== 'string' || !PLATFORM_NAME.test(value)))
        throw invalid(`${show(ref)}: the config's ${field} ${show(String(value))} is not a platform name`);
    }

    // 7. The documents (at once), then the record, last.
    await Promise.all([
      wasmArtifact
        ? undefined
        : store.content.put({ digest: manifest.config.digest, size: manifest.config.size }, configBytes),
      store.content.put({ digest: manifestDesc.digest, size: manifestDesc.size }, manifestBytes),
      index && store.content.put({ digest: index.digest, size: index.bytes.length }, index.bytes),
    ]);
    const record: ImageRecord = {
      ref,
      digest: manifestDesc.digest,
      ...(index ? { indexDigest: index.digest } : {}),
      ...(artifactConfigDigest ? { artifactConfigDigest } : {}),
      mediaType: type.mediaType,
      manifest,
      configDigest,
      config,
      platform: { os: config.os, architecture: config.architecture },
      layers,
      size: manifestBytes.length + total,
      stored: Date.now(),
      ...(signature ? { signature } : {}),
    };
    const displaced = await store.images.get(ref);
    if (displaced && displaced.digest !== record.digest) await store.pinIfUsed(displaced);
    await store.images.put(ref, record);
    progress.phase = 'done';
    progress.done = progress.total;
    emit();
    return record;
  }).catch(async (e: unknown) => {
    // The lease has ended: collect what it protected that no image references.
    if (fresh.size) await collectGarbage(store, { only: fresh }).catch(() => undefined);
    throw e;
  });
}

/**
 * Hands every layer to `take`, `concurrency` at once: with its download stream, or with no data if
 * the store has its blob. On a failure the others are aborted and stop before it is thrown.
 */
async function fetchLayers(
  source: IngestSource,
  layers: Descriptor[],
  progress: PullProgress,
  emit: () => void,
  concurrency: number,
  name: string,
  take: (
    i: number,
    layer: Descriptor,
    data: Uint8Array | ReadableStream<Uint8Array> | undefined,
    signal: AbortSignal,
  ) => Promise<void>,
  stored: (d: Digest) => Promise<unknown>,
): Promise<void> {
  const queue = [...layers.entries()];
  const abort = new AbortController();
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    for (let next = queue.shift(); next && !failure; next = queue.shift()) {
      const [i, layer] = next;
      const lp = progress.layers[i];
      let data: Uint8Array | ReadableStream<Uint8Array> | undefined;
      try {
        if (await stored(layer.digest)) {
          lp.state = 'cached';
          await take(i, layer, undefined, abort.signal);
        } else {
          lp.state = 'downloading';
          emit();
          data = await source.blob(layer, (done) => {
            progress.done += done - lp.done;
            lp.done = done;
            if (done >= layer.size) lp.state = 'verifying';
            emit();
          });
          await take(i, layer, data, abort.signal);
          lp.state = 'done';
        }
      } catch (e) {
        if (data instanceof ReadableStream && !data.locked) await data.cancel(e).catch(() => {});
        failure ??= {
          e:
            e instanceof RuntimeError && e.code === 'resource-exhausted' && /no storage space/.test(e.message)
              ? new RuntimeError(
                  'resource-exhausted',
                  `not enough storage to ${source.kind === 'registry' ? 'pull' : 'import'} ${name} (${progress.total} bytes to store): ${e.message}`,
                  { cause: e },
                )
              : e,
        };
        abort.abort(failure.e);
        return;
      }
      progress.done += layer.size - lp.done;
      lp.done = layer.size;
      emit();
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), Math.max(1, queue.length)) }, worker));
  if (failure) throw failure.e;
}

async function checkSpace(
  store: ImageStore,
  manifest: ImageManifest,
  needed: number,
  name: string,
  source: IngestSource,
  options: IngestOptions,
): Promise<void> {
  if (!options.estimate) return;
  const { usage = 0, quota } = await options.estimate();
  if (quota === undefined) return;
  let missing = needed;
  for (const l of manifest.layers) if (await store.content.info(l.digest)) missing -= l.size * 2;
  if (missing > quota - usage) {
    throw new RuntimeError(
      'resource-exhausted',
      `not enough storage to ${source.kind === 'registry' ? 'pull' : 'import'} ${name}: it needs about ${missing} bytes, ${Math.max(0, quota - usage)} are free`,
    );
  }
}
