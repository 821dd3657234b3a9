// Packs a wasm32-wasi program (and optional files) into an OCI image: one tar+gzip layer, an image
// config with platform wasi/wasm, and a manifest. Deterministic: the same input gives the same
// digests in the same environment. The tar is never joined into one buffer: its pieces (the
// program's own bytes among them) are hashed for the diff_id and streamed through gzip, whose
// output is hashed as it comes, with the environment's codecs (node:zlib and node:crypto in Node,
// where gzip runs on the thread pool while the main thread hashes; pako and WebCrypto elsewhere).
// Gzip level 6, gzip's and docker's default (pako and zlib builds differ in their output, so an
// image packed in Node and in a browser may differ in its layer digest).
import { Deflate, type DeflateOptions } from 'pako';
import {
  concatBytes,
  MediaType,
  webCodecs,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageManifest,
  type StreamCodecs,
} from '../core/index.ts';
import { streamOfBytes, writeTarParts, type TarWriteEntry } from '../layers/index.ts';

/** The gzip level of packed layers. */
export const PACK_GZIP_LEVEL = 6;

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
  /** How to hash and gzip: the environment's (Node: a FsContentStore's `codecs`). Default core's webCodecs and pako. */
  codecs?: StreamCodecs;
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
  const entries: TarWriteEntry[] = [];
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
  const codecs = options.codecs ?? webCodecs;
  const tar = writeTarParts(entries);
  const diffHash = codecs.sha256();
  for (const part of tar) diffHash.update(part);
  const [diffId, layer] = await Promise.all([diffHash.digest(), gzipParts(tar, codecs)]);

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
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: options.created ?? EPOCH, created_by: 'berth pack' }],
  };
  const enc = new TextEncoder();
  const configBytes = enc.encode(JSON.stringify(config));
  const blobs = new Map<Digest, Uint8Array>();
  const describe = describer(blobs, codecs);
  blobs.set(layer.digest, layer.bytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: await describe(MediaType.OciConfig, configBytes),
    layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.bytes.length }],
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
/** What a component's artifact config says of it (CNCF Wasm OCI artifact, `component`). */
export interface ArtifactComponentInfo {
  imports: string[];
  exports: string[];
  /** The world it targets, when one is recognised: `wasi:cli/command`, `wasi:http/proxy`. */
  target?: string;
}

/**
 * A CNCF Wasm OCI artifact of `wasm`: a core module (os wasip1), or, with `component`, a WASI 0.2
 * component (os wasip2, its imports, exports and target world in the config, as `wkg oci push` and
 * `wash push` write them).
 */
export async function packWasmArtifact(
  wasm: Uint8Array,
  options: { created?: string; codecs?: StreamCodecs; component?: ArtifactComponentInfo } = {},
): Promise<PackedImage> {
  const enc = new TextEncoder();
  const blobs = new Map<Digest, Uint8Array>();
  const describe = describer(blobs, options.codecs ?? webCodecs);
  const layer = await describe(MediaType.WasmLayer, wasm);
  const os = options.component ? 'wasip2' : 'wasip1';
  const artifactConfig = {
    created: options.created ?? EPOCH,
    architecture: 'wasm',
    os,
    layerDigests: [layer.digest],
    ...(options.component ? { component: options.component } : {}),
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: MediaType.WasmConfig,
    config: await describe(MediaType.WasmConfig, enc.encode(JSON.stringify(artifactConfig))),
    layers: [layer],
  };
  const manifestDescriptor = await describe(MediaType.OciManifest, enc.encode(JSON.stringify(manifest)));
  manifestDescriptor.platform = { architecture: 'wasm', os };
  const config: ImageConfig = {
    architecture: 'wasm',
    os,
    created: artifactConfig.created,
    config: { Entrypoint: ['/app.wasm'] },
    rootfs: { type: 'layers', diff_ids: [] },
  };
  return { manifest, manifestDescriptor, config, blobs };
}

/** Describes a blob (hashing it with `codecs`) and keeps it in `blobs`. */
function describer(blobs: Map<Digest, Uint8Array>, codecs: StreamCodecs) {
  return async (mediaType: string, bytes: Uint8Array): Promise<Descriptor> => {
    const hash = codecs.sha256();
    hash.update(bytes);
    const digest = await hash.digest();
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
}

/** The gzip of the tar `parts`, hashed as it is produced. */
async function gzipParts(parts: Uint8Array[], codecs: StreamCodecs): Promise<{ bytes: Uint8Array; digest: Digest }> {
  const hash = codecs.sha256();
  const out: Uint8Array[] = [];
  if (codecs.gzip) {
    const reader = codecs.gzip(streamOfBytes(parts), PACK_GZIP_LEVEL).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      hash.update(value);
      out.push(value);
    }
  } else {
    const deflate = new Deflate({
      level: PACK_GZIP_LEVEL,
      gzip: true,
      header: { time: 0, os: 255 },
    } as DeflateOptions);
    deflate.onData = (chunk) => {
      hash.update(chunk);
      out.push(chunk);
    };
    for (const part of parts) deflate.push(part, false);
    deflate.push(new Uint8Array(0), true);
    if (deflate.err) throw new Error(`gzip failed: ${deflate.msg}`);
  }
  return { bytes: concatBytes(out), digest: await hash.digest() };
}
