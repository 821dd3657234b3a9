export * from './errors.ts';
export * from './fs-error.ts';
export * from './digest.ts';
export * from './media-types.ts';
export * from './descriptor.ts';
export * from './fs-node.ts';
export * from './layer-index.ts';
export * from './bytes.ts';
