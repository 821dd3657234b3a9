import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentStoreSuite } from '../../tests/suites/content-store-suite.ts';
import { FsContentStore } from './fs-content-store.ts';
import { FsRecords } from './fs-record-store.ts';
import { MemoryContentStore } from './memory-content-store.ts';
import { MemoryRecords } from './memory-record-store.ts';
import type { RecordStoreFactory } from './record-store.ts';

contentStoreSuite('memory', async () => new MemoryContentStore());
contentStoreSuite('node fs', async () => new FsContentStore(await mkdtemp(join(tmpdir(), 'berth-cs-'))));

function recordSuite(name: string, make: () => Promise<RecordStoreFactory>) {
  describe(`RecordStore: ${name}`, () => {
    it('round-trips structured values, lists keys and deletes', async () => {
      const t = (await make()).table<{ a: number; bytes: Uint8Array; big: bigint }>('volumes');
      await t.put('x/y z', { a: 1, bytes: new Uint8Array([1, 2, 3]), big: 2n ** 70n });
      await t.put('b', { a: 2, bytes: new Uint8Array(), big: 0n });
      expect(await t.get('x/y z')).toEqual({ a: 1, bytes: new Uint8Array([1, 2, 3]), big: 2n ** 70n });
      expect(await t.keys()).toEqual(['b', 'x/y z']);
      expect(await t.keys('x/')).toEqual(['x/y z']);
      expect(await t.keys('zz')).toEqual([]);
      expect(await t.delete('b')).toBe(true);
      expect(await t.delete('b')).toBe(false);
      expect(await t.get('b')).toBeUndefined();
    });
  });
}
recordSuite('memory', async () => new MemoryRecords());
recordSuite('node fs', async () => new FsRecords(await mkdtemp(join(tmpdir(), 'berth-rs-'))));
