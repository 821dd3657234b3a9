// Environment-neutral exports; the Node backends (fs-*.ts) are imported by path from Node code only.
export * from './content-store.ts';
export * from './record-store.ts';
export * from './memory-content-store.ts';
export * from './memory-record-store.ts';
export * from './idb-database.ts';
export * from './idb-content-store.ts';
export * from './idb-record-store.ts';
export * from './record-cache.ts';
