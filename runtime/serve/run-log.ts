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

/**
 * Entries waiting to be written, per record store: a batch is written in one transaction where the
 * store can (`RecordStore.batch`), and the entries that arrive while one is written make the next
 * (a group commit). A request's entry cost the SW two IndexedDB transactions of its own, and a
 * prune every 16th request one per deleted entry, on the thread that answers the next request.
 */
class LogWriter {
  private tail: Promise<void> = Promise.resolve();
  private open: { entries: [string, RunLogEntry, number][]; written: Promise<void> } | undefined;

  constructor(
    private readonly table: RecordStore<RunLogEntry>,
    private readonly keys: (service: string) => Promise<string[]>,
    private readonly gatherMs: number,
  ) {}

  /** Resolves when `entry` (and the batch it went in) is written and pruned. */
  add(key: string, entry: RunLogEntry, keep: number): Promise<void> {
    if (!this.open) {
      const entries: [string, RunLogEntry, number][] = [];
      const written = this.tail.then(async () => {
        if (this.gatherMs > 0) await new Promise((r) => setTimeout(r, this.gatherMs));
        this.open = undefined; // later entries make the next batch
        return this.write(entries);
      });
      this.open = { entries, written };
      this.tail = written.catch(() => {});
    }
    this.open.entries.push([key, entry, keep]);
    return this.open.written;
  }

  private async write(entries: [string, RunLogEntry, number][]): Promise<void> {
    const puts = entries.map(([k, e]) => [k, e] as [string, RunLogEntry]);
    if (this.table.batch) await this.table.batch(puts);
    else for (const [k, e] of puts) await this.table.put(k, e);
    // Prune now and then (every 16th entry of a service, on average), not on every request.
    const stale: string[] = [];
    for (const [service, { n, keep }] of counts(entries)) {
      if (Math.random() >= n / 16 && keep >= 16) continue;
      const keys = await this.keys(service);
      stale.push(...keys.slice(0, Math.max(0, keys.length - keep)));
    }
    if (!stale.length) return;
    if (this.table.batch) await this.table.batch([], stale);
    else for (const k of stale) await this.table.delete(k);
  }
}

/** Per service: its entries in the batch, and the fewest any of them asked to keep. */
function counts(entries: [string, RunLogEntry, number][]): Map<string, { n: number; keep: number }> {
  const m = new Map<string, { n: number; keep: number }>();
  for (const [, e, keep] of entries) {
    const c = m.get(e.service);
    m.set(e.service, { n: (c?.n ?? 0) + 1, keep: Math.min(keep, c?.keep ?? keep) });
  }
  return m;
}

const writers = new WeakMap<RecordStoreFactory, LogWriter>();

export class RunLog {
  private readonly table: RecordStore<RunLogEntry>;
  private readonly writer: LogWriter;
  /**
   * `gatherMs`: how long a batch waits for more entries before it is written (the first RunLog of a
   * record store sets it). The SW waits a little: one transaction per request, even after the
   * response, took CPU from the next request on the thread that answers it.
   */
  constructor(
    records: RecordStoreFactory,
    private readonly keep = 100,
    options: { gatherMs?: number } = {},
  ) {
    this.table = records.table<RunLogEntry>(RecordTable.RunLog);
    let writer = writers.get(records);
    if (!writer)
      writers.set(records, (writer = new LogWriter(this.table, (s) => this.keysOf(s), options.gatherMs ?? 0)));
    this.writer = writer;
  }

  private static prefix(service: string): string {
    return `${service}\u0000`;
  }

  add(entry: RunLogEntry): Promise<void> {
    const key = `${RunLog.prefix(entry.service)}${String(entry.time).padStart(15, '0')}-${Math.random().toString(36).slice(2, 8)}`;
    return this.writer.add(key, entry, this.keep);
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
