// CNCF Wasm OCI artifacts: a config of type application/vnd.wasm.config.v0+json and a layer that is
// the module itself (application/wasm). berth gives such an image an ordinary rootfs: a synthesized
// one-file tar (`/app.wasm`, stored and indexed like any layer) and an image config whose
// Entrypoint runs it.
import {
  mediaKind,
  MediaType,
  RuntimeError,
  sha256,
  type Digest,
  type ImageConfig,
  type ImageManifest,
} from '../core/index.ts';
import { writeTar } from '../layers/index.ts';
import type { ImageLayerRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import { unpackLayer, type UnpackOptions } from './unpack-layer.ts';

/** A Wasm artifact's module layer (core's media-type table, kind 'wasm-layer'). */
export function isWasmArtifactLayer(mediaType: string): boolean {
  return mediaKind(mediaType) === 'wasm-layer';
}

export async function synthesizeWasmRootfs(
  module: Uint8Array,
  artifactConfig: { os?: string; architecture?: string; created?: string },
): Promise<{ tar: Uint8Array; diffId: Digest; config: ImageConfig }> {
  const tar = writeTar([{ path: 'app.wasm', type: 'file', mode: 0o755, mtime: 0, data: module }]);
  const diffId = await sha256(tar);
  return {
    tar,
    diffId,
    config: {
      architecture: artifactConfig.architecture ?? 'wasm',
      os: artifactConfig.os ?? 'wasip1',
      created: artifactConfig.created,
      config: { Entrypoint: ['/app.wasm'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    },
  };
}

export interface StoredArtifact {
  config: ImageConfig;
  /** Digest of the synthesized config, stored as a blob. */
  configDigest: Digest;
  /** The registry's own (Wasm) config blob. */
  artifactConfigDigest: Digest;
  layers: ImageLayerRecord[];
}

export function isWasmArtifact(manifest: ImageManifest): boolean {
  return (
    mediaKind(manifest.config.mediaType) === 'wasm-config' ||
    manifest.layers.some((l) => isWasmArtifactLayer(l.mediaType))
  );
}

/**
 * Gives a stored Wasm artifact (its module layer already in the content store) a rootfs and a
 * config: stores the synthesized tar, its index and the config. `protect` is called with each
 * digest before it is written (a pull's lease).
 */
export async function storeWasmArtifact(
  store: ImageStore,
  manifest: ImageManifest,
  artifactConfigBytes: Uint8Array,
  options: UnpackOptions & { protect?: (d: Digest) => Promise<void> } = {},
): Promise<StoredArtifact> {
  const layer = manifest.layers[0];
  if (manifest.layers.length !== 1 || !isWasmArtifactLayer(layer.mediaType)) {
    throw new RuntimeError(
      'invalid-argument',
      `a Wasm artifact must have exactly one module layer, this one has ${manifest.layers.length}`,
    );
  }
  const blob = await store.content.get(layer.digest);
  if (!blob) throw new RuntimeError('not-found', `the module layer ${layer.digest} is not in the content store`);
  const artifact = JSON.parse(new TextDecoder().decode(artifactConfigBytes)) as {
    os?: string;
    architecture?: string;
    created?: string;
  };
  const synth = await synthesizeWasmRootfs(new Uint8Array(await blob.arrayBuffer()), artifact);
  await options.protect?.(synth.diffId);
  await store.content.put({ digest: synth.diffId }, synth.tar);
  await unpackLayer(store, { digest: synth.diffId, mediaType: MediaType.OciLayer }, synth.diffId, options);
  const configBytes = new TextEncoder().encode(JSON.stringify(synth.config));
  const configDigest = await sha256(configBytes);
  await options.protect?.(configDigest);
  await store.content.put({ digest: configDigest }, configBytes);
  return {
    config: synth.config,
    configDigest,
    artifactConfigDigest: manifest.config.digest,
    layers: [{ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, diffId: synth.diffId }],
  };
}
