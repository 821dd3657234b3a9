// Media types berth reads and writes (OCI image spec, Docker v2 schema 2, CNCF Wasm artifacts), and
// THE table of what each one is: every check of a manifest, an index, a config or a layer (pull,
// layout and archive import, the layer decompressor, the registry's Accept header) asks this table,
// so what one door accepts every door accepts.
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  WasmConfig: 'application/vnd.wasm.config.v0+json',
  WasmLayer: 'application/wasm',
  WasmContentLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  WasmModuleLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/**
 * What a media type is: an image `manifest`, an `index` (manifest list), an image `config`, a tar
 * `layer` (with its compression), a Wasm artifact's `wasm-config`, or a Wasm artifact's module
 * (`wasm-layer`).
 */
export type MediaKind = 'manifest' | 'index' | 'config' | 'layer' | 'wasm-config' | 'wasm-layer';
export type LayerCompression = 'none' | 'gzip' | 'zstd';
export interface MediaTypeInfo {
  kind: MediaKind;
  /** Tar layers only. */
  compression?: LayerCompression;
}

/** The one table. A Map, so that no media type (`constructor`, `__proto__`) hits an Object prototype. */
export const MEDIA_TYPES: ReadonlyMap<string, MediaTypeInfo> = new Map<string, MediaTypeInfo>([
  [MediaType.OciManifest, { kind: 'manifest' }],
  [MediaType.DockerManifest, { kind: 'manifest' }],
  [MediaType.OciIndex, { kind: 'index' }],
  [MediaType.DockerManifestList, { kind: 'index' }],
  [MediaType.OciConfig, { kind: 'config' }],
  [MediaType.DockerConfig, { kind: 'config' }],
  [MediaType.OciLayer, { kind: 'layer', compression: 'none' }],
  [MediaType.OciLayerNondistributable, { kind: 'layer', compression: 'none' }],
  [MediaType.DockerLayer, { kind: 'layer', compression: 'none' }],
  [MediaType.OciLayerGzip, { kind: 'layer', compression: 'gzip' }],
  [MediaType.OciLayerNondistributableGzip, { kind: 'layer', compression: 'gzip' }],
  [MediaType.DockerLayerGzip, { kind: 'layer', compression: 'gzip' }],
  [MediaType.DockerForeignLayerGzip, { kind: 'layer', compression: 'gzip' }],
  [MediaType.OciLayerZstd, { kind: 'layer', compression: 'zstd' }],
  [MediaType.OciLayerNondistributableZstd, { kind: 'layer', compression: 'zstd' }],
  [MediaType.WasmConfig, { kind: 'wasm-config' }],
  [MediaType.WasmLayer, { kind: 'wasm-layer' }],
  [MediaType.WasmContentLayer, { kind: 'wasm-layer' }],
  [MediaType.WasmModuleLayer, { kind: 'wasm-layer' }],
]);

export function mediaKind(mediaType: unknown): MediaKind | undefined {
  return typeof mediaType === 'string' ? MEDIA_TYPES.get(mediaType)?.kind : undefined;
}

/** The compression of a tar layer type; undefined for anything that is not a tar layer. */
export function layerCompression(mediaType: unknown): LayerCompression | undefined {
  const info = typeof mediaType === 'string' ? MEDIA_TYPES.get(mediaType) : undefined;
  return info?.kind === 'layer' ? info.compression : undefined;
}

/** Every media type of the given kinds, in table order. */
export function mediaTypesOf(...kinds: MediaKind[]): string[] {
  return [...MEDIA_TYPES].filter(([, info]) => kinds.includes(info.kind)).map(([t]) => t);
}
