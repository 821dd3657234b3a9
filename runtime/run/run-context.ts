// What a run needs from its environment: the stores, compiled modules, how layer bytes are read, and
// how volume writers are serialized. Each environment builds one through its factory below, so the
// differences between Node, a page's run worker and the Service Worker live in one file.
import type { ContentStore, RecordStoreFactory } from '../content/index.ts';
import type { ByteSource } from '../core/index.ts';
import { instrumentDeadline } from '../wasm/index.ts';
import { blobByteSource, bytesSource, contentByteSources } from './byte-sources.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import { cacheApiModuleStore, ModuleCache } from './module-cache.ts';
import type { LockFn } from './volume-locks.ts';

export interface RunContext {
  content: ContentStore;
  records: RecordStoreFactory;
  modules: ModuleCache;
  byteSource: ByteSourceFactory;
  /** Serializes runs that share a volume; defaults to Web Locks, else an in-process queue. */
  lock?: LockFn;
}

/** The stores a context is built over. */
export interface RunStores {
  content: ContentStore;
  records: RecordStoreFactory;
}

export interface RunContextOptions {
  /** Compiled modules to share (a pool hands its cache to each worker). */
  modules?: ModuleCache;
  lock?: LockFn;
}

/**
 * Node (the CLI, tests, benchmarks): layer bytes read on demand from the blob files when the store
 * can open them synchronously (FsContentStore), else each layer tar read whole once. Volume locks
 * are `options.lock`, else an in-process queue: a store that several processes use needs locks
 * that span them (the CLI passes `fileLocks(<store>/locks)`, file-locks.ts).
 */
export function nodeRunContext(stores: RunStores, options: RunContextOptions = {}): RunContext {
  return {
    ...stores,
    modules: options.modules ?? new ModuleCache(),
    byteSource: contentByteSources(stores.content),
    ...(options.lock ? { lock: options.lock } : {}),
  };
}

/**
 * A dedicated worker of the page's pool: FileReaderSync reads layer bytes on demand from the
 * IndexedDB Blob handles; the pool enforces deadlines by terminating the worker.
 */
export function workerRunContext(stores: RunStores, options: RunContextOptions = {}): RunContext {
  return {
    ...stores,
    modules: options.modules ?? new ModuleCache(),
    byteSource: blobByteSource,
    ...(options.lock ? { lock: options.lock } : {}),
  };
}

/**
 * The Service Worker, for runs with no app window open. It has no synchronous Blob reads, so layer
 * tars are loaded whole once and kept by diff_id; and no worker it could terminate, so modules are
 * compiled with deadline checks.
 */
export function serviceWorkerRunContext(stores: RunStores, options: RunContextOptions = {}): RunContext {
  const sources = new Map<string, Promise<ByteSource>>();
  return {
    ...stores,
    modules:
      options.modules ??
      new ModuleCache(undefined, (bytes) => instrumentDeadline(bytes), cacheApiModuleStore('metered')),
    byteSource: (blob, diffId) => {
      let s = sources.get(diffId);
      if (!s) {
        s = blob.arrayBuffer().then((b) => bytesSource(new Uint8Array(b)));
        s.catch(() => sources.delete(diffId));
        sources.set(diffId, s);
      }
      return s;
    },
    ...(options.lock ? { lock: options.lock } : {}),
  };
}
