// Records kept in memory in front of a record table, for a reader that reads the same few records
// for every request: the Service Worker reads a service record per /svc request, an IndexedDB
// round trip (about half a millisecond in Chromium). Whoever writes the table must call `drop`
// with the keys once the write is committed (IdbRecords' write hook carries that to the SW); a
// record is also read again once it is `ttlMs` old, for a writer that could not say so.

export class RecordCache<T> {
  private readonly kept = new Map<string, { value: Promise<T | undefined>; at: number }>();

  constructor(
    private readonly read: (key: string) => Promise<T | undefined>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The record (undefined when there is none, which is kept too). Callers share the value: treat it
   * as read-only. A failed read is not kept.
   */
  get(key: string): Promise<T | undefined> {
    const hit = this.kept.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const entry = { value: this.read(key), at: this.now() };
    this.kept.set(key, entry);
    entry.value.catch(() => {
      if (this.kept.get(key) === entry) this.kept.delete(key);
    });
    return entry.value;
  }

  /**
   * Forgets `keys` (every record when absent). A read still in flight is forgotten too: it may have
   * begun before the write, and the next `get` reads again.
   */
  drop(keys?: readonly string[]): void {
    if (!keys) this.kept.clear();
    else for (const k of keys) this.kept.delete(k);
  }
}
