// Absolute symlinks in a "/" preopen: resolved from the preopen with absoluteSymlinks 'root',
// refused (NOTCAPABLE) by default, and never leaving the preopen either way.
import { describe, expect, it } from 'vitest';
import { type MemDir, type MemFile, MemTree } from '../vfs/mem-tree.ts';
import { runFixture } from '../../tests/fixtures/wasi/run-fixture.ts';

const enc = new TextEncoder();

function rootfs(): { outside: MemDir; root: MemDir; data: MemDir } {
  const tree = new MemTree();
  const outside = tree.createRoot();
  const etc = outside.createDir('etc');
  etc.createFile('passwd').write(0, enc.encode('outside'));
  const root = outside.createDir('rootfs');
  const usr = root.createDir('usr');
  const bin = usr.createDir('bin');
  const lib = usr.createDir('lib');
  bin.createFile('dash').write(0, enc.encode('dash!'));
  lib.createFile('libc.txt').write(0, enc.encode('libc!'));
  root.createDir('bin').createSymlink('sh', '/usr/bin/dash');
  root.createSymlink('lib', '/usr/lib');
  lib.createSymlink('chain', '/lib/libc.txt');
  bin.createSymlink('rel', '../lib/libc.txt');
  bin.createSymlink('abs-from-sub', '/usr/lib/libc.txt');
  root.createSymlink('escape', '/../etc/passwd');
  root.createSymlink('rootdot', '/');
  root.createSymlink('aloop', '/bloop');
  root.createSymlink('bloop', '/aloop');
  const data = tree.createRoot();
  data.createSymlink('abs', '/usr/bin/dash');
  root.createDir('data');
  return { outside, root, data };
}

describe('absolute symlinks', () => {
  it("resolve from a preopen with absoluteSymlinks 'root', chroot-like", () => {
    const { outside, root, data } = rootfs();
    const r = runFixture('abs-links', {
      preopens: [
        { guestPath: '/', dir: root, absoluteSymlinks: 'root' },
        { guestPath: '/data', dir: data },
      ],
    });
    expect(r.stdout.split('\n')).toEqual([
      '/bin/sh: OK dash!',
      '/lib/libc.txt: OK libc!',
      '/usr/lib/chain: OK libc!',
      '/usr/bin/rel: OK libc!',
      '/escape: ENOTCAPABLE',
      '/rootdot: OK dash!',
      '/aloop: ELOOP',
      '/data/abs: ENOTCAPABLE',
      'readlink /bin/sh: /usr/bin/dash',
      'stat /lib: OK dir=1',
      'lstat /lib: OK link=1',
      'openat sub abs: OK',
      'create via /lib: OK',
      '/usr/lib/new.txt: OK made',
      '',
    ]);
    expect(r.code).toBe(0);
    expect(new TextDecoder().decode(((outside.lookup('etc') as MemDir).lookup('passwd') as MemFile).contents())).toBe(
      'outside',
    );
    expect([...outside.entries()].map(([n]) => n).sort()).toEqual(['etc', 'rootfs']);
  });
  it('are refused with NOTCAPABLE by default', () => {
    const { root, data } = rootfs();
    const r = runFixture('abs-links', {
      preopens: [
        { guestPath: '/', dir: root },
        { guestPath: '/data', dir: data },
      ],
    });
    const lines = r.stdout.split('\n');
    expect(lines).toContain('/bin/sh: ENOTCAPABLE');
    expect(lines).toContain('/lib/libc.txt: ENOTCAPABLE');
    expect(lines).toContain('openat sub abs: ENOTCAPABLE');
    expect(lines).toContain('create via /lib: ENOTCAPABLE');
    expect(lines).toContain('stat /lib: ENOTCAPABLE dir=0');
  });
});
