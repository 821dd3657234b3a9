import { describe, expect, it } from 'vitest';
import { MemoryRecordStore } from './memory-record-store.ts';
import { RecordCache } from './record-cache.ts';

function counted<T>(store: MemoryRecordStore<T>) {
  const reads: string[] = [];
  return {
    reads,
    read: (k: string) => {
      reads.push(k);
      return store.get(k);
    },
  };
}

describe('RecordCache', () => {
  it('reads a record once while it is young, absent ones included', async () => {
    const store = new MemoryRecordStore<{ v: number }>();
    await store.put('a', { v: 1 });
    const { reads, read } = counted(store);
    let now = 1000;
    const cache = new RecordCache(read, 2000, () => now);
    expect(await cache.get('a')).toEqual({ v: 1 });
    expect(await cache.get('a')).toEqual({ v: 1 });
    expect(await cache.get('none')).toBeUndefined();
    expect(await cache.get('none')).toBeUndefined();
    expect(reads).toEqual(['a', 'none']);
    now += 1999;
    await cache.get('a');
    expect(reads).toEqual(['a', 'none']);
    now += 1;
    await store.put('a', { v: 2 });
    expect(await cache.get('a')).toEqual({ v: 2 });
    expect(reads).toEqual(['a', 'none', 'a']);
  });

  it('reads again after drop, for the keys dropped or for all', async () => {
    const store = new MemoryRecordStore<number>();
    await store.put('a', 1);
    await store.put('b', 1);
    const { reads, read } = counted(store);
    const cache = new RecordCache(read, 60_000);
    await cache.get('a');
    await cache.get('b');
    await store.put('a', 2);
    await store.put('b', 2);
    cache.drop(['a']);
    expect(await cache.get('a')).toBe(2);
    expect(await cache.get('b')).toBe(1); // not dropped: still the kept one
    cache.drop();
    expect(await cache.get('b')).toBe(2);
    expect(reads).toEqual(['a', 'b', 'a', 'b']);
  });

  it('forgets a read that was in flight when its key was dropped', async () => {
    let release!: (v: number) => void;
    const values = [new Promise<number>((r) => (release = r)), Promise.resolve(2)];
    let i = 0;
    const cache = new RecordCache<number>(() => values[i++], 60_000);
    const first = cache.get('a');
    cache.drop(['a']); // the write committed while the first read was under way
    expect(await cache.get('a')).toBe(2);
    release(1);
    expect(await first).toBe(1); // its own caller still gets what it read...
    expect(await cache.get('a')).toBe(2); // ...but it is not what is kept
    expect(i).toBe(2);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const cache = new RecordCache<number>(async () => {
      if (fail) throw new Error('NotReadableError');
      return 3;
    }, 60_000);
    await expect(cache.get('a')).rejects.toThrow('NotReadableError');
    fail = false;
    expect(await cache.get('a')).toBe(3);
  });
});
