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

export class VolumeStore {
  private readonly table: RecordStore<StoredVolume>;
  constructor(records: RecordStoreFactory) {
    this.table = records.table<StoredVolume>(RecordTable.Volumes);
  }
  /** A fresh working copy of the volume (empty if it does not exist yet). */
  async open(name: string, tree: MemTree = new MemTree()): Promise<MemDir> {
    const stored = await this.table.get(name);
    return stored ? restoreDir(stored.snapshot, tree) : tree.createRoot();
  }
  async commit(name: string, dir: MemDir): Promise<void> {
    await this.table.put(name, { name, snapshot: snapshotDir(dir), updated: Date.now() });
  }
  /**
   * Commits now, mid-run (a program's fsync): synchronously where the records can be written so
   * (Node), else started and returned (browsers). The run's own commit at exit replaces it.
   */
  commitNow(name: string, dir: MemDir): Promise<void> | undefined {
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
