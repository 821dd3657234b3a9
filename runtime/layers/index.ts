export * from './tar-reader.ts';
export * from './index-layer.ts';
export * from './decompress-layer.ts';
export * from './write-tar.ts';
export * from './tar-path.ts';
export * from './split-stream.ts';
export * from './gzip-seek.ts';
