// Volumes: named writable directories that outlive runs. A run works on its own copy, restored
// from the stored snapshot, and the whole new snapshot replaces the old one in one put when the run
// ends, so a crash mid-run never leaves half a change.
import { RecordTable, type RecordStore, type RecordStoreFactory } from '../content/index.ts';
import { MemTree, restoreDir, snapshotDir, type MemDir, type VolumeSnapshot } from '../vfs/index.ts';

export interface VolumeMount {
  /** Volume name; volumes live in the `volumes` table and outlive runs. */
  name: string;
  /** Absolute path inside the container. */
  path: string;
  /** Mounted read-only (EROFS on every change; nothing committed). */
  readOnly?: boolean;
}

export interface StoredVolume {
  name: string;
  snapshot: VolumeSnapshot;
  updated: number;
}

/** The key of a volume's snapshot in what its lock keeps between runs. */
const KEPT_SNAPSHOT = 'volume-snapshot';

export class VolumeStore {
  private readonly table: RecordStore<StoredVolume>;
  constructor(records: RecordStoreFactory) {
    this.table = records.table<StoredVolume>(RecordTable.Volumes);
  }
  /**
   * A fresh working copy of the volume (empty if it does not exist yet). `kept` is what the
   * volume's lock carries between runs (HeldLocks, volume-locks.ts): the snapshot the last run
   * under the same lease read or committed, restored instead of read, and what this read leaves
   * for the next. Snapshots there are never changed (restoreDir and snapshotDir copy the bytes).
   */
  async open(name: string, tree: MemTree = new MemTree(), kept?: Map<string, unknown>): Promise<MemDir> {
    const known = kept?.get(KEPT_SNAPSHOT) as { snapshot: VolumeSnapshot | undefined } | undefined;
    const snapshot = known ? known.snapshot : (await this.table.get(name))?.snapshot;
    kept?.set(KEPT_SNAPSHOT, { snapshot });
    return snapshot ? restoreDir(snapshot, tree) : tree.createRoot();
  }
  async commit(name: string, dir: MemDir, kept?: Map<string, unknown>): Promise<void> {
    const snapshot = snapshotDir(dir);
    // Until the put has succeeded the stored volume is unknown here: the next run reads it.
    kept?.delete(KEPT_SNAPSHOT);
    await this.table.put(name, { name, snapshot, updated: Date.now() });
    kept?.set(KEPT_SNAPSHOT, { snapshot });
  }
  /**
   * Commits now, mid-run (a program's fsync): synchronously where the records can be written so
   * (Node), else started and returned (browsers). The run's own commit at exit replaces it. What
   * `kept` held is dropped: after a sync, the stored volume is this run's, not the one it opened.
   */
  commitNow(name: string, dir: MemDir, kept?: Map<string, unknown>): Promise<void> | undefined {
    kept?.delete(KEPT_SNAPSHOT);
    const record = { name, snapshot: snapshotDir(dir), updated: Date.now() };
    if (this.table.putSync) {
      this.table.putSync(name, record);
      return undefined;
    }
    return this.table.put(name, record);
  }
  async list(): Promise<string[]> {
    return this.table.keys();
  }
  /** The stored volume (its snapshot and when it was last written), if there is one. */
  async get(name: string): Promise<StoredVolume | undefined> {
    return this.table.get(name);
  }
  /** Replaces the volume's contents with `snapshot` (an import, or an empty `create`). */
  async put(name: string, snapshot: VolumeSnapshot): Promise<void> {
    await this.table.put(name, { name, snapshot, updated: Date.now() });
  }
  async remove(name: string): Promise<boolean> {
    return this.table.delete(name);
  }
}

/**
 * A run's syncs of its volumes (a program's fsync), committed with VolumeStore.commitNow. Where
 * commits are async (browsers), a volume has at most one in flight: a sync meanwhile commits once
 * more after it, as the volume is then. A program syncing in a loop piled up a whole snapshot per
 * sync outside the run's Space (40 syncs of a 12 MiB volume held 960 MiB).
 */
export class VolumeSyncs {
  private readonly inFlight = new Map<string, { again: boolean; done: Promise<void> }>();
  constructor(private readonly volumes: VolumeStore) {}
  sync(v: { name: string; dir: MemDir; kept?: Map<string, unknown> }): void {
    const busy = this.inFlight.get(v.name);
    if (busy) {
      busy.again = true;
      return;
    }
    const p = this.volumes.commitNow(v.name, v.dir, v.kept);
    if (!p) return;
    const entry = { again: false, done: Promise.resolve() };
    entry.done = p
      .catch(() => undefined) // the run's own commit at exit writes the volume again
      .then(() => {
        this.inFlight.delete(v.name);
        if (entry.again) this.sync(v);
      });
    this.inFlight.set(v.name, entry);
  }
  /** Resolves once no commit is in flight (those a sync asked for meanwhile included). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight.values()].map((s) => s.done));
  }
}
