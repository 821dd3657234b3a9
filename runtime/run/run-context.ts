// What a run needs from its environment: the stores, compiled modules, how layer bytes are read, and
// how volume writers are serialized. Each environment builds one through its factory below, so the
// differences between Node, a page's run worker and the Service Worker live in one file.
import type { ContentStore, RecordStoreFactory } from '../content/index.ts';
import type { ByteSource } from '../core/index.ts';
import { instrumentDeadline } from '../wasm/index.ts';
import {
  BlobChunkCache,
  blobByteSource,
  contentByteSources,
  pagedLayerSource,
  wholeLayerSource,
} from './byte-sources.ts';
import { jspiApi } from './run-program.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import { cacheApiModuleStore, keptCompiles, ModuleCache } from './module-cache.ts';
import type { LockFn } from './volume-locks.ts';
import {
  cacheApiTranspiledStore,
  componentLoader,
  transpileComponent,
  type ComponentLoader,
  type AsyncFetch,
  type SyncFetch,
} from '../component/index.ts';
import { xhrSyncFetch } from './sync-fetch.ts';

export interface RunContext {
  content: ContentStore;
  records: RecordStoreFactory;
  modules: ModuleCache;
  byteSource: ByteSourceFactory;
  /** Serializes runs that share a volume; defaults to Web Locks, else an in-process queue. */
  lock?: LockFn;
  /** Layer bytes may be pending (BytesPending): file reads suspend the program until they are loaded (JSPI). */
  suspendingReads?: boolean;
  /** Where WASI 0.2 components are made runnable; without it a component entrypoint is refused. */
  components?: ComponentLoader;
  /** A blocking fetch for wasi:http handlers' outgoing requests; without it they are refused. */
  httpFetch?: SyncFetch;
  /** The fetch for handlers whose waits suspend (the Service Worker's JSPI glue). */
  httpFetchAsync?: AsyncFetch;
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
  components?: ComponentLoader;
  httpFetch?: SyncFetch;
  httpFetchAsync?: AsyncFetch;
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
    ...(options.components ? { components: options.components } : {}),
    ...(options.httpFetch ? { httpFetch: options.httpFetch } : {}),
  };
}

/**
 * A dedicated worker of the page's pool: FileReaderSync reads layer bytes on demand from the
 * IndexedDB Blob handles; the pool enforces deadlines by terminating the worker, and the programs
 * are metered to stop themselves there too (pass a metering ModuleCache, as app/run-worker.ts does).
 */
export function workerRunContext(stores: RunStores, options: RunContextOptions = {}): RunContext {
  return {
    ...stores,
    modules: options.modules ?? new ModuleCache(),
    byteSource: blobByteSource,
    components: options.components ?? workerComponentLoader(),
    // wasi:http handlers' outgoing requests: synchronous XHR, which dedicated workers still have.
    httpFetch: options.httpFetch ?? xhrSyncFetch,
    ...(options.lock ? { lock: options.lock } : {}),
  };
}

/**
 * A run worker's components: transpiled there on first use (jco's bindgen, a chunk loaded then) and
 * kept in the Cache API, with the JSPI variant the Service Worker runs them in. Make one per worker
 * and pass it to every job's context: a loader per job read, evaluated and compiled the component
 * again for every request (130 ms a request for a 13 MB component, against 13 ms kept).
 */
export function workerComponentLoader(): ComponentLoader {
  return componentLoader({
    transpile: transpileComponent,
    store: cacheApiTranspiledStore(),
    alsoStore: jspiApi() ? ['jspi'] : [],
    // Metered like the worker's modules (app/run-worker.ts): terminate() does not stop wasm in WebKit.
    meter: true,
    // Core modules as run, kept in the Cache API: the SW meters them alike, so each finds what the
    // other kept, and a restart or a new worker compiles them without capping and metering again.
    compileCore: keptCompiles(cacheApiModuleStore('component')),
  });
}

/**
 * The Service Worker, for runs with no app window open. It has no synchronous Blob reads: where the
 * engine has JSPI, file bytes are read on demand in chunks (a read of bytes not yet in memory
 * suspends the program while they load, and a size-bounded cache keeps the hot ones), so no request
 * loads a whole layer; elsewhere layer tars are loaded whole once and kept by diff_id. There is no
 * worker it could terminate, so modules are compiled with deadline metering.
 */
export function serviceWorkerRunContext(stores: RunStores, options: RunContextOptions = {}): RunContext {
  const modules =
    options.modules ?? new ModuleCache(undefined, (bytes) => instrumentDeadline(bytes), cacheApiModuleStore('metered'));
  const lock = options.lock ? { lock: options.lock } : {};
  // Components: the SW cannot run jco's bindgen, so it runs what the app's workers transpiled and
  // kept (cacheApiTranspiledStore), in the JSPI variant where it can suspend, metered for deadlines.
  const components =
    options.components ??
    componentLoader({
      variant: jspiApi() ? 'jspi' : 'sync',
      store: cacheApiTranspiledStore(),
      meter: true,
      compileCore: keptCompiles(cacheApiModuleStore('component')),
    });
  if (jspiApi()) {
    const chunks = new BlobChunkCache();
    return {
      ...stores,
      modules,
      byteSource: async (layer) => pagedLayerSource(layer, chunks),
      suspendingReads: true,
      components,
      ...(options.httpFetchAsync ? { httpFetchAsync: options.httpFetchAsync } : {}),
      ...lock,
    };
  }
  const sources = new Map<string, Promise<ByteSource>>();
  return {
    ...stores,
    modules,
    byteSource: (layer, diffId) => {
      let s = sources.get(diffId);
      if (!s) {
        s = wholeLayerSource(layer);
        s.catch(() => sources.delete(diffId));
        sources.set(diffId, s);
      }
      return s;
    },
    components,
    ...lock,
  };
}
