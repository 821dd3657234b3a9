// A run log per service: one entry per request (time, method, path, status, duration, where it
// ran, the tail of stderr), newest first, the last `keep` entries per service.
import { RecordTable, type RecordStore, type RecordStoreFactory } from '../content/index.ts';

export interface RunLogEntry {
  service: string;
  /** ms since epoch when the request arrived. */
  time: number;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  runner: string;
  exitCode?: number;
  stderrTail: string;
  /** berth's own account of a failed run (a 5xx berth answered), when there is one. */
  error?: string;
}

export class RunLog {
  private readonly table: RecordStore<RunLogEntry>;
  constructor(
    records: RecordStoreFactory,
    private readonly keep = 100,
  ) {
    this.table = records.table<RunLogEntry>(RecordTable.RunLog);
  }

  private static prefix(service: string): string {
    return `${service}\u0000`;
  }

  async add(entry: RunLogEntry): Promise<void> {
    const key = `${RunLog.prefix(entry.service)}${String(entry.time).padStart(15, '0')}-${Math.random().toString(36).slice(2, 8)}`;
    await this.table.put(key, entry);
    // Prune now and then (every 16th write, on average), not on every request.
    if (Math.random() < 1 / 16 || this.keep < 16) {
      const keys = await this.keysOf(entry.service);
      for (const old of keys.slice(0, Math.max(0, keys.length - this.keep))) await this.table.delete(old);
    }
  }

  private async keysOf(service: string): Promise<string[]> {
    return this.table.keys(RunLog.prefix(service));
  }

  /** Newest first (at most `limit`; between prunes a few more than `keep` may be stored). */
  async list(service: string, limit = this.keep): Promise<RunLogEntry[]> {
    const keys = (await this.keysOf(service)).reverse().slice(0, limit);
    return (await Promise.all(keys.map((k) => this.table.get(k)))).filter((e): e is RunLogEntry => !!e);
  }
}
