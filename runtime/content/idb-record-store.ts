// Record tables in IndexedDB: one object store per table, out-of-line string keys.
import type { BerthDb } from './idb-database.ts';
import type { RecordStore, RecordStoreFactory, RecordTable } from './record-store.ts';

/**
 * Told after a write to a table is committed, with the keys written or deleted; the write resolves
 * when this does. The Service Worker keeps service records in memory, and this is how it hears of
 * a change (see sw/sw-context.ts).
 */
export type RecordWriteHook = (table: RecordTable, keys: string[]) => Promise<void> | void;

export class IdbRecordStore<T> implements RecordStore<T> {
  constructor(
    private readonly db: BerthDb,
    private readonly name: RecordTable,
    private readonly written?: RecordWriteHook,
  ) {}
  async get(key: string): Promise<T | undefined> {
    return (await this.db.get(this.name, key)) as T | undefined;
  }
  async put(key: string, value: T): Promise<void> {
    const tx = this.db.transaction(this.name, 'readwrite');
    const put = tx.store.put(value, key);
    // Committed now rather than when the put's success event has run: the commit no longer waits
    // for a round trip to this thread (IDBTransaction.commit: Chromium 76, Firefox 74, Safari 15).
    commitNow(tx);
    await Promise.all([put, tx.done]);
    await this.written?.(this.name, [key]);
  }
  async delete(key: string): Promise<boolean> {
    const tx = this.db.transaction(this.name, 'readwrite');
    const had = (await tx.store.getKey(key)) !== undefined;
    if (had) await tx.store.delete(key);
    await tx.done;
    if (had) await this.written?.(this.name, [key]);
    return had;
  }
  async batch(puts: [string, T][], deletes: string[] = []): Promise<void> {
    const tx = this.db.transaction(this.name, 'readwrite');
    const requests = [...puts.map(([k, v]) => tx.store.put(v, k)), ...deletes.map((k) => tx.store.delete(k))];
    commitNow(tx);
    await Promise.all([...requests, tx.done]);
    if (puts.length + deletes.length > 0) await this.written?.(this.name, [...puts.map(([k]) => k), ...deletes]);
  }
  async keys(prefix?: string): Promise<string[]> {
    // A key range keeps a prefix query proportional to what it finds, not to the table.
    const range = prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
    return (await this.db.getAllKeys(this.name, range)).map(String);
  }
}

function commitNow(tx: { commit?: () => void }): void {
  if (typeof tx.commit === 'function') tx.commit();
}

export class IdbRecords implements RecordStoreFactory {
  /** `written`: told of every committed write to the tables in `watched` (all tables when absent). */
  constructor(
    private readonly db: BerthDb,
    private readonly options: { written?: RecordWriteHook; watched?: readonly RecordTable[] } = {},
  ) {}
  table<T>(name: RecordTable): RecordStore<T> {
    const { written, watched } = this.options;
    return new IdbRecordStore<T>(this.db, name, watched && !watched.includes(name) ? undefined : written);
  }
}
