// The one IndexedDB database berth keeps per origin, typed with idb's DBSchema so a wrong store
// name or value shape is a compile error. Blobs are stored as Blob (a lazy handle when read back), or as
// bytes in blob-bytes where the browser refuses Blobs (see idb-content-store.ts).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Digest } from '../core/index.ts';
import { RecordTable } from './record-store.ts';

export interface StoredBlob {
  digest: Digest;
  size: number;
  created: number;
  /** The bytes as a Blob (a lazy handle when read back)... */
  blob?: Blob;
  /** ...or, where this database refuses Blobs, in the blob-bytes table (see idb-content-store.ts). */
  inBytesTable?: true;
}

export interface BerthDbSchema extends DBSchema {
  blobs: { key: Digest; value: StoredBlob };
  'blob-bytes': { key: Digest; value: ArrayBuffer };
  images: { key: string; value: unknown };
  'layer-indexes': { key: string; value: unknown };
  services: { key: string; value: unknown };
  volumes: { key: string; value: unknown };
  leases: { key: string; value: unknown };
  settings: { key: string; value: unknown };
  'run-log': { key: string; value: unknown };
}

export type BerthDb = IDBPDatabase<BerthDbSchema>;

export const BERTH_DB_NAME = 'berth';
// 2: the run-log table; 3: blob-bytes. Upgrades only add missing stores, so older data stays.
const VERSION = 3;

export function openBerthDb(name: string = BERTH_DB_NAME): Promise<BerthDb> {
  return openDB<BerthDbSchema>(name, VERSION, {
    upgrade(db) {
      if (!db.objectStoreNames.contains('blobs')) db.createObjectStore('blobs', { keyPath: 'digest' });
      if (!db.objectStoreNames.contains('blob-bytes')) db.createObjectStore('blob-bytes');
      for (const table of Object.values(RecordTable)) {
        if (!db.objectStoreNames.contains(table)) db.createObjectStore(table);
      }
    },
  });
}
