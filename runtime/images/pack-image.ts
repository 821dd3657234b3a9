// Packs a wasm32-wasi program (and optional files) into an OCI image: one tar+gzip layer, an image
// config with platform wasi/wasm, and a manifest. Deterministic: the same input gives the same digests.
import { gzip } from 'pako';
import {
  MediaType,
  sha256,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageManifest,
} from '../core/index.ts';
import { writeTar } from '../layers/index.ts';

export interface PackOptions {
  wasm: Uint8Array;
  /** Where the program lands in the rootfs; also the entrypoint. Default `/app.wasm`. */
  wasmPath?: string;
  files?: { path: string; data: Uint8Array; mode?: number }[];
  /** Empty directories to create (e.g. volume mount points). */
  dirs?: string[];
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  labels?: Record<string, string>;
  /** ISO time written into the config; fixed by default so packing is reproducible. */
  created?: string;
}

export interface PackedImage {
  manifest: ImageManifest;
  manifestDescriptor: Descriptor;
  config: ImageConfig;
  blobs: Map<Digest, Uint8Array>;
}

const EPOCH = '1970-01-01T00:00:00Z';

export async function packImage(options: PackOptions): Promise<PackedImage> {
  const wasmPath = (options.wasmPath ?? '/app.wasm').replace(/^\/+/, '');
  const mtime = Date.parse(options.created ?? EPOCH);
  const entries: Parameters<typeof writeTar>[0] = [];
  const dirs = new Set<string>();
  const addParents = (path: string) => {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ path: d, type: 'dir', mode: 0o755, mtime });
      }
    }
  };
  for (const d of options.dirs ?? []) addParents(`${d.replace(/^\/+|\/+$/g, '')}/x`);
  addParents(wasmPath);
  entries.push({ path: wasmPath, type: 'file', mode: 0o755, mtime, data: options.wasm });
  for (const f of options.files ?? []) {
    const p = f.path.replace(/^\/+/, '');
    addParents(p);
    entries.push({ path: p, type: 'file', mode: f.mode ?? 0o644, mtime, data: f.data });
  }
  const tar = writeTar(entries);
  const layer = gzip(tar, { level: 9, header: { time: 0, os: 255 } } as Parameters<typeof gzip>[1]);

  const config: ImageConfig = {
    architecture: 'wasm',
    os: 'wasi',
    created: options.created ?? EPOCH,
    config: {
      Entrypoint: options.entrypoint ?? [`/${wasmPath}`],
      ...(options.cmd ? { Cmd: options.cmd } : {}),
      Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      WorkingDir: options.workdir ?? '/',
      ...(options.labels ? { Labels: options.labels } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [await sha256(tar)] },
    history: [{ created: options.created ?? EPOCH, created_by: 'berth pack' }],
  };
  const enc = new TextEncoder();
  const configBytes = enc.encode(JSON.stringify(config));
  const blobs = new Map<Digest, Uint8Array>();
  const describe = async (mediaType: string, bytes: Uint8Array): Promise<Descriptor> => {
    const digest = await sha256(bytes);
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: await describe(MediaType.OciConfig, configBytes),
    layers: [await describe(MediaType.OciLayerGzip, layer)],
  };
  const manifestBytes = enc.encode(JSON.stringify(manifest));
  const manifestDescriptor = await describe(MediaType.OciManifest, manifestBytes);
  manifestDescriptor.platform = { architecture: 'wasm', os: 'wasi' };
  return { manifest, manifestDescriptor, config, blobs };
}

/**
 * Packs a module as a CNCF Wasm OCI artifact: a config of type application/vnd.wasm.config.v0+json
 * and the module itself as the one layer (application/wasm). berth pulls and runs these too.
 */
export async function packWasmArtifact(wasm: Uint8Array, options: { created?: string } = {}): Promise<PackedImage> {
  const enc = new TextEncoder();
  const blobs = new Map<Digest, Uint8Array>();
  const describe = async (mediaType: string, bytes: Uint8Array): Promise<Descriptor> => {
    const digest = await sha256(bytes);
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const layer = await describe(MediaType.WasmLayer, wasm);
  const artifactConfig = {
    created: options.created ?? EPOCH,
    architecture: 'wasm',
    os: 'wasip1',
    layerDigests: [layer.digest],
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: MediaType.WasmConfig,
    config: await describe(MediaType.WasmConfig, enc.encode(JSON.stringify(artifactConfig))),
    layers: [layer],
  };
  const manifestDescriptor = await describe(MediaType.OciManifest, enc.encode(JSON.stringify(manifest)));
  manifestDescriptor.platform = { architecture: 'wasm', os: 'wasip1' };
  const config: ImageConfig = {
    architecture: 'wasm',
    os: 'wasip1',
    created: artifactConfig.created,
    config: { Entrypoint: ['/app.wasm'] },
    rootfs: { type: 'layers', diff_ids: [] },
  };
  return { manifest, manifestDescriptor, config, blobs };
}
