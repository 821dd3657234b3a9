export * from './wasi-p2-host.ts';
export * from './run-component.ts';
export * from './transpile.ts';
export * from './wasi-http-host.ts';
