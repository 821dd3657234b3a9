export * from './mem-tree.ts';
export * from './layer-index.ts';
export * from './layer-tree.ts';
export * from './overlay.ts';
export * from './with-mounts.ts';
export * from './volume-snapshot.ts';
