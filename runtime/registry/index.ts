export * from './reference.ts';
export * from './registry-error.ts';
export * from './auth-challenge.ts';
export * from './registry-client.ts';
export * from './cors-fallback-fetch.ts';
export * from './registry-path-fetch.ts';
export * from './cors-explain.ts';
export { readCapped } from './registry-fetch.ts';
