// A named table of structured-clone-able records (image records, layer indexes, services, volumes).
// Each put replaces the whole record atomically.
export interface RecordStore<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  /**
   * The same put, done (and on disk) before it returns, where the backend can (the Node fs store):
   * a program's fsync commits its volume this way, so the write survives a kill right after.
   */
  putSync?(key: string, value: T): void;
  /** True if it existed. */
  delete(key: string): Promise<boolean>;
  /** Keys in ascending order; only those starting with `prefix` when given. */
  keys(prefix?: string): Promise<string[]>;
  /** Puts and deletes in one transaction, where the backend has them (IndexedDB). */
  batch?(puts: [string, T][], deletes?: string[]): Promise<void>;
}

/** Every record table berth keeps; the IndexedDB schema has one object store per name. */
export const RecordTable = {
  Images: 'images',
  LayerIndexes: 'layer-indexes',
  Services: 'services',
  Volumes: 'volumes',
  Leases: 'leases',
  Settings: 'settings',
  RunLog: 'run-log',
} as const;
export type RecordTable = (typeof RecordTable)[keyof typeof RecordTable];

/** Opens record tables of one backing store. */
export interface RecordStoreFactory {
  table<T>(name: RecordTable): RecordStore<T>;
}
