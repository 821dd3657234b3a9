// What a run needs from its environment: the stores, compiled modules, how layer bytes are read, and
// how volume writers are serialized. Each environment builds one through its factory.
import type { ContentStore, RecordStoreFactory } from '../content/index.ts';
import type { ByteSourceFactory } from './image-rootfs.ts';
import type { ModuleCache } from './module-cache.ts';
import type { LockFn } from './volume-locks.ts';

export interface HostContext {
  content: ContentStore;
  records: RecordStoreFactory;
  modules: ModuleCache;
  byteSource: ByteSourceFactory;
  /** Serializes runs that share a volume; defaults to Web Locks, else an in-process queue. */
  lock?: LockFn;
}
