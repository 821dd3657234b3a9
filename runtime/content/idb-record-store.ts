// Record tables in IndexedDB: one object store per table, out-of-line string keys.
import type { BerthDb } from './idb-database.ts';
import type { RecordStore, RecordStoreFactory, RecordTable } from './record-store.ts';

export class IdbRecordStore<T> implements RecordStore<T> {
  constructor(
    private readonly db: BerthDb,
    private readonly name: RecordTable,
  ) {}
  async get(key: string): Promise<T | undefined> {
    return (await this.db.get(this.name, key)) as T | undefined;
  }
  async put(key: string, value: T): Promise<void> {
    await this.db.put(this.name, value, key);
  }
  async delete(key: string): Promise<boolean> {
    const tx = this.db.transaction(this.name, 'readwrite');
    const had = (await tx.store.getKey(key)) !== undefined;
    if (had) await tx.store.delete(key);
    await tx.done;
    return had;
  }
  async batch(puts: [string, T][], deletes: string[] = []): Promise<void> {
    const tx = this.db.transaction(this.name, 'readwrite');
    await Promise.all([
      ...puts.map(([k, v]) => tx.store.put(v, k)),
      ...deletes.map((k) => tx.store.delete(k)),
      tx.done,
    ]);
  }
  async keys(prefix?: string): Promise<string[]> {
    // A key range keeps a prefix query proportional to what it finds, not to the table.
    const range = prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
    return (await this.db.getAllKeys(this.name, range)).map(String);
  }
}

export class IdbRecords implements RecordStoreFactory {
  constructor(private readonly db: BerthDb) {}
  table<T>(name: RecordTable): RecordStore<T> {
    return new IdbRecordStore<T>(this.db, name);
  }
}
