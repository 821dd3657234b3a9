export * from './wasm-binary-reader.ts';
export * from './wasm-binary-instructions.ts';
export * from './instrument-deadline.ts';
export * from './limit-memory.ts';
export * from './binary-kind.ts';
