// A volume carried between runs of one lease (HeldLocks): the next run restores what the last one
// read or committed without reading the table, a sync or a failed commit drops it, and a new
// lease reads the table again, so another context's write made in between is seen.
import { describe, expect, it } from 'vitest';
import { MemoryRecords, RecordTable, type RecordStore } from '../content/index.ts';
import { MemFile, type MemDir } from '../vfs/index.ts';
import { leasedLocks, type LockFn, volumeLockName, webLocks } from './volume-locks.ts';
import { VolumeStore, VolumeSyncs } from './volume-store.ts';
import { FifoLocks } from './fifo-locks.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records whose volumes table counts its reads and can be made to fail its next put. */
function countingRecords() {
  const records = new MemoryRecords();
  const table = records.table<unknown>(RecordTable.Volumes) as RecordStore<unknown>;
  const counts = { gets: 0, failNextPut: false };
  const get = table.get.bind(table);
  const put = table.put.bind(table);
  table.get = (key) => {
    counts.gets++;
    return get(key);
  };
  table.put = async (key, value) => {
    if (counts.failNextPut) {
      counts.failNextPut = false;
      throw new Error('quota exceeded');
    }
    return put(key, value);
  };
  return { records, counts };
}

const read = (dir: MemDir) => {
  const f = dir.lookup('n');
  return f instanceof MemFile ? dec.decode(f.contents()) : '';
};
const write = (dir: MemDir, text: string) => {
  const f = (dir.lookup('n') as MemFile | undefined) ?? dir.createFile('n');
  f.truncate(0);
  f.write(0, enc.encode(text));
};

describe('VolumeStore with what a lease keeps', () => {
  it('reads a volume once per lease: later runs start from the last commit', async () => {
    const { records, counts } = countingRecords();
    const volumes = new VolumeStore(records);
    const lock = leasedLocks(new FifoLocks(), { idleMs: 30, maxMs: 10_000 });
    const name = volumeLockName('v');
    const step = () =>
      lock([name], async (held) => {
        const kept = held?.kept(name);
        const dir = await volumes.open('v', undefined, kept);
        write(dir, String(Number(read(dir) || '0') + 1));
        await volumes.commit('v', dir, kept);
      });
    for (let i = 0; i < 5; i++) await step();
    expect(counts.gets).toBe(1);
    expect(read(await volumes.open('v'))).toBe('5');
  });

  it('reads again in a new lease, and so sees what another context wrote meanwhile', async () => {
    const { records, counts } = countingRecords();
    const manager = new FifoLocks();
    const volumes = new VolumeStore(records);
    const sw = leasedLocks(manager, { idleMs: 5, maxMs: 10_000 });
    const other = webLocks(manager);
    const name = volumeLockName('v');
    const bump = (lock: LockFn) =>
      lock([name], async (held) => {
        const kept = held?.kept(name);
        expect(held === undefined || kept !== undefined).toBe(true);
        const dir = await volumes.open('v', undefined, kept);
        write(dir, String(Number(read(dir) || '0') + 1));
        await volumes.commit('v', dir, kept);
      });
    await bump(sw);
    await bump(sw);
    await new Promise((r) => setTimeout(r, 30)); // the lease ends
    await bump(other); // plain Web Locks: nothing kept, reads the table
    await bump(sw);
    expect(read(await volumes.open('v'))).toBe('4');
    expect(counts.gets).toBe(3 + 1); // the SW twice (two leases), the other context once, the check
  });

  it('forgets the volume after a sync mid-run and after a commit that failed', async () => {
    const { records, counts } = countingRecords();
    const volumes = new VolumeStore(records);
    const kept = new Map<string, unknown>();
    const dir = await volumes.open('v', undefined, kept);
    write(dir, 'a');
    await volumes.commit('v', dir, kept);
    expect(counts.gets).toBe(1);
    // A sync: the stored volume is now this run's; what was kept is not trusted any more.
    const syncing = await volumes.open('v', undefined, kept);
    expect(counts.gets).toBe(1);
    write(syncing, 'b');
    await volumes.commitNow('v', syncing, kept);
    expect(read(await volumes.open('v', undefined, kept))).toBe('b');
    expect(counts.gets).toBe(2);
    // A commit that fails leaves nothing kept: the next run reads what is really stored.
    const failing = await volumes.open('v', undefined, kept);
    write(failing, 'c');
    counts.failNextPut = true;
    await expect(volumes.commit('v', failing, kept)).rejects.toThrow('quota exceeded');
    expect(read(await volumes.open('v', undefined, kept))).toBe('b');
    expect(counts.gets).toBe(3);
  });

  it('keeps a volume that does not exist yet as absent, and starts it empty', async () => {
    const { records, counts } = countingRecords();
    const volumes = new VolumeStore(records);
    const kept = new Map<string, unknown>();
    expect(read(await volumes.open('new', undefined, kept))).toBe('');
    expect(read(await volumes.open('new', undefined, kept))).toBe('');
    expect(counts.gets).toBe(1);
  });
});

describe('VolumeSyncs', () => {
  it('keeps at most one commit of a volume in flight: 40 syncs during a slow put make 2 puts, the last as the volume ended', async () => {
    const records = new MemoryRecords();
    const table = records.table<unknown>(RecordTable.Volumes) as RecordStore<unknown>;
    const put = table.put.bind(table);
    let puts = 0;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    table.put = async (key, value) => {
      puts++;
      await gate;
      return put(key, value);
    };
    delete (table as { putSync?: unknown }).putSync; // as in browsers: commits are async
    const volumes = new VolumeStore(records);
    const dir = await volumes.open('v');
    const syncs = new VolumeSyncs(volumes);
    for (let i = 1; i <= 40; i++) {
      write(dir, String(i));
      syncs.sync({ name: 'v', dir });
    }
    expect(puts).toBe(1);
    const settled = syncs.settled();
    release();
    gate = Promise.resolve();
    await settled;
    expect(puts).toBe(2);
    expect(read(await volumes.open('v'))).toBe('40');
  });
});
