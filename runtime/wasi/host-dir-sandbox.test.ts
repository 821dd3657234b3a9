// Host symlinks that point outside a host-directory preopen (runtime/vfs/host-dir.ts): the
// backend only reports them (lstat), the resolver refuses to follow them out.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostDir } from '../vfs/host-dir.ts';
import { Errno, resolvePath, WasiError } from './index.ts';

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-host-sandbox-'));
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof WasiError) return e.errno;
    throw e;
  }
  return 0;
}

describe('a host-directory preopen', () => {
  it('never follows a host symlink to an outside directory', () => {
    const outside = tempDir();
    writeFileSync(join(outside, 'secret.txt'), 'outside secret');
    const jail = join(outside, 'jail');
    mkdirSync(jail);
    symlinkSync(outside, join(jail, 'outdir')); // absolute, to a real directory
    symlinkSync('/etc', join(jail, 'etc'));
    symlinkSync('..', join(jail, 'parent'));
    const root = HostDir.open(jail);
    expect(errnoOf(() => resolvePath(root, 'outdir/secret.txt', true))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, 'etc/passwd', true))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, 'parent/secret.txt', true))).toBe(Errno.NOTCAPABLE);
    // chroot-like: the absolute target is looked up inside the mount, where it does not exist.
    expect(errnoOf(() => resolvePath(root, 'outdir/secret.txt', true, root))).toBe(Errno.NOENT);
    expect(resolvePath(root, 'etc', false).node?.kind).toBe('symlink');
  });
});
