// What berth remembers about a stored image. Written only after every blob it names is committed
// and every layer is indexed, so a record's existence means the image is complete.
import type { Digest, ImageConfig, ImageManifest, Platform } from '../core/index.ts';
import type { ImageSignature } from './trust-policy.ts';

export interface ImageLayerRecord {
  /** Digest of the layer blob as stored in the registry (compressed). */
  digest: Digest;
  mediaType: string;
  size: number;
  /** Digest of the uncompressed tar (config rootfs.diff_ids), which is also the key of its index. */
  diffId: Digest;
}

export interface ImageRecord {
  /** The reference the user named it by, e.g. `localhost/berth/hello-web-db:latest`. */
  ref: string;
  /** Manifest digest: the image's identity. */
  digest: Digest;
  /** The index (manifest list) the manifest was chosen from, when there was one. */
  indexDigest?: Digest;
  /** The registry's config blob, when berth synthesized `config` (Wasm artifacts). */
  artifactConfigDigest?: Digest;
  mediaType: string;
  manifest: ImageManifest;
  configDigest: Digest;
  config: ImageConfig;
  platform: Platform;
  layers: ImageLayerRecord[];
  /** Bytes of manifest + config + layers as stored in the registry. */
  size: number;
  /** ms since epoch when the record was written. */
  stored: number;
  /** What the trust policy's signature check proved when the image was ingested (absent: no check was asked for). */
  signature?: ImageSignature;
}
