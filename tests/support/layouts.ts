// OCI layouts for registry tests, written with berth's own packer: a plain wasi/wasm image, an
// index with several platforms, and a CNCF Wasm artifact.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  MediaType,
  sha256,
  type Descriptor,
  type Digest,
  type ImageIndex,
  type ImageManifest,
} from '../../runtime/core/index.ts';
import { layoutFiles, packImage, type PackOptions } from '../../runtime/images/index.ts';
import { gzip } from 'pako';
import { writeTar } from '../../runtime/layers/index.ts';

const enc = new TextEncoder();

export async function helloWasm(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url)));
}

export async function writeLayoutDir(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
}

async function add(blobs: Map<Digest, Uint8Array>, mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  const digest = await sha256(bytes);
  blobs.set(digest, bytes);
  return { mediaType, digest, size: bytes.length };
}

/** A one-image layout named `name` (e.g. `x:1`). */
export async function imageLayout(dir: string, name: string, options: Partial<PackOptions> = {}) {
  const packed = await packImage({ wasm: await helloWasm(), dirs: ['/data'], ...options });
  await writeLayoutDir(dir, layoutFiles(packed.blobs, [{ name, manifest: packed.manifestDescriptor }]));
  return packed;
}

/** An index with a linux/amd64 image (a plain tar layer) and a wasi/wasm one. */
export async function multiPlatformLayout(
  dir: string,
  name: string,
  platforms: { os: string; architecture: string }[] = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'wasi', architecture: 'wasm' },
  ],
) {
  const blobs = new Map<Digest, Uint8Array>();
  const manifests: Descriptor[] = [];
  for (const p of platforms) {
    let manifestDesc: Descriptor;
    if (p.os === 'wasi' || p.os === 'wasip1') {
      const packed = await packImage({ wasm: await helloWasm(), dirs: ['/data'] });
      for (const [d, b] of packed.blobs) blobs.set(d, b);
      manifestDesc = { ...packed.manifestDescriptor };
      if (p.os !== 'wasi') {
        // Same content, other platform name: rewrite the config's os.
        const config = { ...packed.config, os: p.os };
        const cfg = await add(blobs, MediaType.OciConfig, enc.encode(JSON.stringify(config)));
        const m: ImageManifest = { ...packed.manifest, config: cfg };
        manifestDesc = await add(blobs, MediaType.OciManifest, enc.encode(JSON.stringify(m)));
      }
    } else {
      const tar = writeTar([
        { path: 'bin/sh', type: 'file', mode: 0o755, data: enc.encode(`not really ${p.os}/${p.architecture}\n`) },
      ]);
      const layer = await add(blobs, MediaType.OciLayerGzip, gzip(tar));
      const config = await add(
        blobs,
        MediaType.OciConfig,
        enc.encode(
          JSON.stringify({
            architecture: p.architecture,
            os: p.os,
            config: { Entrypoint: ['/bin/sh'] },
            rootfs: { type: 'layers', diff_ids: [await sha256(tar)] },
          }),
        ),
      );
      const m: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] };
      manifestDesc = await add(blobs, MediaType.OciManifest, enc.encode(JSON.stringify(m)));
    }
    manifests.push({ ...manifestDesc, platform: { os: p.os, architecture: p.architecture } });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  const indexDesc = await add(blobs, MediaType.OciIndex, enc.encode(JSON.stringify(index)));
  await writeLayoutDir(dir, layoutFiles(blobs, [{ name, manifest: indexDesc }]));
  return { index, indexDesc };
}

/**
 * A CNCF Wasm artifact: wasm config + one application/wasm layer. `wkg: true` writes it as `wkg oci
 * push` does (no artifactType, an annotated manifest, the component's world in the config).
 */
export async function wasmArtifactLayout(
  dir: string,
  name: string,
  options: { wasm?: Uint8Array; wkg?: { os: string; component: object } } = {},
) {
  const blobs = new Map<Digest, Uint8Array>();
  const module = options.wasm ?? (await helloWasm());
  const layer = await add(blobs, MediaType.WasmLayer, module);
  const config = await add(
    blobs,
    MediaType.WasmConfig,
    enc.encode(
      JSON.stringify({
        created: '2026-01-01T00:00:00Z',
        architecture: 'wasm',
        os: options.wkg?.os ?? 'wasip1',
        layerDigests: [layer.digest],
        ...(options.wkg ? { author: 'wkg test', component: options.wkg.component } : {}),
      }),
    ),
  );
  const m: ImageManifest = options.wkg
    ? {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config,
        layers: [layer],
        annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
      }
    : {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: MediaType.WasmConfig,
        config,
        layers: [layer],
      };
  const desc = await add(blobs, MediaType.OciManifest, enc.encode(JSON.stringify(m)));
  await writeLayoutDir(dir, layoutFiles(blobs, [{ name, manifest: desc }]));
  return { manifest: m, desc };
}

/** fetch over a directory (URL paths are file paths under `root`), as the SW reads a precached seed. */
export function dirFetch(root: string): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const path = decodeURIComponent(new URL(String(input)).pathname);
    try {
      return new Response(await readFile(join(root, path)));
    } catch {
      return new Response('missing', { status: 404 });
    }
  }) as typeof fetch;
}
