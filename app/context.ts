// The app context: created once by main.ts and handed to every view. It holds the one database
// connection and the stores over it, the page's worker pool, and the page state (images, services,
// storage) as subscribable stores that views render from.
import {
  IdbContentStore,
  IdbRecords,
  RecordTable,
  type BerthDb,
  type ContentStore,
  type RecordStoreFactory,
} from '../runtime/content/index.ts';
import { ImageStore, type ImageRecord } from '../runtime/images/index.ts';
import type { ServiceRecord } from '../runtime/serve/index.ts';
import { notifyServiceWorker } from './records-notify.ts';
import { readStorageInfo, type StorageInfo } from './storage-info.ts';
import { workerGzipUnpacker } from './unpack-offload.ts';
import { createStore, type Store } from './store.ts';
import { WorkerPool } from './worker-pool.ts';

export type StatusState = 'busy' | 'ok' | 'error';

export interface AppState {
  images: Store<ImageRecord[]>;
  services: Store<ServiceRecord[]>;
  /** Undefined until read, or where the browser cannot tell. */
  storage: Store<StorageInfo | undefined>;
}

export interface AppContext {
  readonly db: BerthDb;
  readonly content: ContentStore;
  readonly records: RecordStoreFactory;
  readonly images: ImageStore;
  /** The page's run workers, started on first use (main.ts does so once the SW controls the page). */
  readonly pool: WorkerPool;
  readonly state: AppState;
  /** The page's status line. */
  setStatus(text: string, state?: StatusState): void;
  /** Reads images, services and storage use again; the views follow through the stores. */
  refresh(): Promise<void>;
  refreshStorage(): Promise<void>;
}

export async function listServices(records: RecordStoreFactory): Promise<ServiceRecord[]> {
  const table = records.table<ServiceRecord>(RecordTable.Services);
  const all = await Promise.all((await table.keys()).map((k) => table.get(k)));
  return all.filter((s): s is ServiceRecord => !!s);
}

export function createAppContext(
  db: BerthDb,
  options: { setStatus: AppContext['setStatus']; createPool?: () => WorkerPool },
): AppContext {
  const content = new IdbContentStore(db);
  // The SW keeps service records in memory: it hears of this page's writes to them.
  const records = new IdbRecords(db, { watched: [RecordTable.Services], written: notifyServiceWorker() });
  const images = new ImageStore({ content, records, gzipUnpacker: workerGzipUnpacker() });
  const state: AppState = {
    images: createStore<ImageRecord[]>([]),
    services: createStore<ServiceRecord[]>([]),
    storage: createStore<StorageInfo | undefined>(undefined),
  };
  let pool: WorkerPool | undefined;
  const refreshStorage = async () => state.storage.set(await readStorageInfo());
  return {
    db,
    content,
    records,
    images,
    get pool() {
      return (pool ??= options.createPool?.() ?? new WorkerPool());
    },
    state,
    setStatus: options.setStatus,
    async refresh() {
      const [imageList, services] = await Promise.all([images.list(), listServices(records), refreshStorage()]);
      state.images.set(imageList);
      state.services.set(services);
    },
    refreshStorage,
  };
}
