// Record tables in memory; values are structured-cloned in and out, like IndexedDB does.
import type { RecordStore, RecordStoreFactory, RecordTable } from './record-store.ts';

export class MemoryRecordStore<T> implements RecordStore<T> {
  private readonly map = new Map<string, T>();
  async get(key: string): Promise<T | undefined> {
    const v = this.map.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }
  async put(key: string, value: T): Promise<void> {
    this.map.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<boolean> {
    return this.map.delete(key);
  }
  async keys(prefix?: string): Promise<string[]> {
    return [...this.map.keys()].filter((k) => !prefix || k.startsWith(prefix)).sort();
  }
}

export class MemoryRecords implements RecordStoreFactory {
  private readonly tables = new Map<string, MemoryRecordStore<unknown>>();
  table<T>(name: RecordTable): RecordStore<T> {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new MemoryRecordStore<unknown>()));
    return t as RecordStore<T>;
  }
}
