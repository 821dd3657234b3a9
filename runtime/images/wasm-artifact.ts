// CNCF Wasm OCI artifacts: a config of type application/vnd.wasm.config.v0+json and a layer that is
// the module itself (application/wasm). berth gives such an image an ordinary rootfs: a synthesized
// one-file tar (`/app.wasm`, stored and indexed like any layer) and an image config whose
// Entrypoint runs it.
import { MediaType, sha256, type Digest, type ImageConfig } from '../core/index.ts';
import { writeTar } from '../layers/index.ts';

export const WASM_LAYER_TYPES: readonly string[] = [
  MediaType.WasmLayer,
  'application/vnd.wasm.content.layer.v1+wasm',
  'application/vnd.module.wasm.content.layer.v1+wasm',
];

export function isWasmArtifactLayer(mediaType: string): boolean {
  return WASM_LAYER_TYPES.includes(mediaType);
}

export async function synthesizeWasmRootfs(module: Uint8Array, artifactConfig: { os?: string; architecture?: string; created?: string }): Promise<{ tar: Uint8Array; diffId: Digest; config: ImageConfig }> {
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
