export * from './mem-tree.ts';
// The packed form of a LayerIndex, stored at pull time and read per directory by buildLayerTree.
export { decodeLayerIndex, PackedLayerIndex } from './packed-index.ts';
export { encodeLayerIndex } from './packed-index-encode.ts';
export * from './layer-tree.ts';
export * from './overlay.ts';
export * from './with-mounts.ts';
export { normalizeMountPath } from './normalize-mount-path.ts';
export * from './volume-snapshot.ts';
export * from './read-only.ts';
