// Offsets past 4 GiB: a sparse file on a host-directory preopen takes 64-bit seeks, writes, reads
// and truncation exactly as Linux does; the in-memory tree refuses to grow past 4 GiB with EFBIG.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFixture } from '../../tests/fixtures/wasi/run-fixture.ts';
import { HostDir } from '../vfs/host-dir.ts';
import { MemTree } from '../vfs/mem-tree.ts';

describe('offsets past 4 GiB', () => {
  it('work on a sparse file in a host directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sparse-'));
    try {
      const r = runFixture('sparse', { preopens: [{ guestPath: '.', dir: HostDir.open(dir) }] });
      const five = 5 * 2 ** 30;
      expect(r.stdout).toBe(
        [
          `lseek: ${five}`,
          'write: 4',
          'pwrite: 4',
          'pread: 4 tail',
          'hole: 4 0000',
          `size: ${five + 2 ** 31 + 4}`,
          `end: ${five + 2 ** 31 + 4}`,
          'ftruncate: 0',
          `size: ${6 * 2 ** 30}`,
          '',
        ].join('\n'),
      );
      expect(statSync(join(dir, 'big')).size).toBe(6 * 2 ** 30);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are refused with EFBIG by the in-memory tree, which does not hold sparse files', () => {
    const r = runFixture('sparse', { preopens: [{ guestPath: '.', dir: new MemTree().createRoot() }] });
    expect(r.stdout).toBe(`lseek: ${5 * 2 ** 30}\nwrite: EFBIG\n`);
  });
});
