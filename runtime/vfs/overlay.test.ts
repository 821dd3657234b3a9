import { describe, expect, it } from 'vitest';
import type { FsDir, FsFile } from '../core/index.ts';
import { fsSuite, expectFsError, readText } from '../../tests/suites/fs-suite.ts';
import { layerOf } from '../../tests/suites/layer-helpers.ts';
import { buildLayerTree } from './layer-tree.ts';
import { createOverlay } from './overlay.ts';
import { MemTree, type MemDir } from './mem-tree.ts';
import { restoreDir, snapshotDir } from './volume-snapshot.ts';

const enc = new TextEncoder();

async function lowerTree(): Promise<FsDir> {
  const l1 = await layerOf([
    { path: 'work', type: 'dir' },
    { path: 'gone-dir', type: 'dir' },
    { path: 'work2', type: 'dir' },
    { path: 'work2/gone', type: 'file', data: enc.encode('old') },
    { path: 'etc', type: 'dir', mode: 0o755, mtime: 1_700_000_000_000 },
    {
      path: 'etc/hosts',
      type: 'file',
      mode: 0o644,
      mtime: 1_700_000_000_000,
      data: enc.encode('127.0.0.1 localhost\n'),
    },
    { path: 'etc/passwd', type: 'file', data: enc.encode('root:x:0:0\n') },
    { path: 'etc/link', type: 'symlink', linkname: 'hosts' },
    { path: 'etc/sub', type: 'dir' },
    { path: 'etc/sub/deep', type: 'file', data: enc.encode('deep') },
  ]);
  return buildLayerTree([l1]);
}

const lower = await lowerTree();

function dir(d: FsDir, name: string): FsDir {
  const n = d.lookup(name);
  expect(n?.kind).toBe('dir');
  return n as FsDir;
}

// The suite's root is a directory that exists only in the lower at first, so every change copies up.
fsSuite('overlay over a layer tree (lower-only dir)', () =>
  dir(createOverlay(lower, new MemTree().createRoot()), 'work'),
);
fsSuite('overlay over a layer tree (dir with a deleted lower file)', () => {
  const w = dir(createOverlay(lower, new MemTree().createRoot()), 'work2');
  w.unlink('gone');
  return w;
});
fsSuite('overlay root over an empty layer tree', () => createOverlay(buildLayerTree([]), new MemTree().createRoot()));

describe('overlay', () => {
  const fresh = () => {
    const upper = new MemTree(7n).createRoot();
    return { upper, root: createOverlay(lower, upper) };
  };
  const names = (d: FsDir) => [...d.entries()].map(([n]) => n);

  it('copy-up leaves the lower untouched and keeps the inode number', () => {
    const { upper, root } = fresh();
    const etc = dir(root, 'etc');
    const hosts = etc.lookup('hosts') as FsFile;
    const ino = hosts.stat().ino;
    expect(hosts.stat().mode).toBe(0o644);
    hosts.write(0, enc.encode('10.0.0.1'));
    expect(readText(etc.lookup('hosts'))).toBe('10.0.0.11 localhost\n');
    expect(readText(dir(lower, 'etc').lookup('hosts'))).toBe('127.0.0.1 localhost\n');
    expect(etc.lookup('hosts')!.stat().ino).toBe(ino);
    expect(etc.lookup('hosts')!.stat().mode).toBe(0o644);
    expect(etc.lookup('hosts')!.stat().mtim).not.toBe(1_700_000_000_000n * 1_000_000n);
    // Only the changed file and its parent went up.
    expect([...(upper.lookup('etc') as MemDir).entries()].map(([n]) => n)).toEqual(['hosts']);
    expect(readText(dir(root, 'etc').lookup('passwd'))).toBe('root:x:0:0\n');
  });

  it('copy-up through one handle is seen through another opened before it', () => {
    const { root } = fresh();
    const a = dir(root, 'etc').lookup('passwd') as FsFile;
    const b = dir(root, 'etc').lookup('passwd') as FsFile;
    a.truncate(4);
    expect(readText(b)).toBe('root');
    b.write(4, enc.encode('!'));
    expect(readText(a)).toBe('root!');
  });

  it('setTimes on a lower file copies it up', () => {
    const { root } = fresh();
    const f = dir(root, 'etc').lookup('passwd')!;
    f.setTimes(5n, 6n);
    expect(dir(root, 'etc').lookup('passwd')!.stat().mtim).toBe(6n);
    expect(dir(lower, 'etc').lookup('passwd')!.stat().mtim).toBe(0n);
  });

  it('deleting a lower file hides it, behind a marker that is never visible', () => {
    const { upper, root } = fresh();
    const etc = dir(root, 'etc');
    etc.unlink('passwd');
    expect(etc.lookup('passwd')).toBeUndefined();
    expect(names(etc)).toEqual(['hosts', 'link', 'sub']);
    expect(etc.lookup('.wh.passwd')).toBeUndefined();
    expect((upper.lookup('etc') as MemDir).lookup('.wh.passwd')?.kind).toBe('file');
    expect(dir(lower, 'etc').lookup('passwd')?.kind).toBe('file');
    expectFsError(() => etc.unlink('passwd'), 'ENOENT');
    expectFsError(() => etc.createFile('.wh.x'), 'EINVAL');
  });

  it('re-creating after delete shows only the new content', () => {
    const { root } = fresh();
    const etc = dir(root, 'etc');
    etc.unlink('passwd');
    etc.createFile('passwd').write(0, enc.encode('new'));
    expect(readText(etc.lookup('passwd'))).toBe('new');
    expect(names(etc).sort()).toEqual(['hosts', 'link', 'passwd', 'sub']);
    // A deleted lower directory comes back empty.
    etc.unlink('passwd');
    expectFsError(() => etc.rmdir('sub'), 'ENOTEMPTY');
    dir(etc, 'sub').unlink('deep');
    etc.rmdir('sub');
    expect(etc.lookup('sub')).toBeUndefined();
    etc.createDir('sub');
    expect(names(dir(etc, 'sub'))).toEqual([]);
  });

  it('renames a lower file: copy-up, then the old name is hidden', () => {
    const { root } = fresh();
    const etc = dir(root, 'etc');
    const ino = etc.lookup('hosts')!.stat().ino;
    etc.rename('hosts', root, 'hosts.moved');
    expect(etc.lookup('hosts')).toBeUndefined();
    expect(readText(root.lookup('hosts.moved'))).toBe('127.0.0.1 localhost\n');
    expect(root.lookup('hosts.moved')!.stat().ino).toBe(ino);
    expect(readText(dir(lower, 'etc').lookup('hosts'))).toBe('127.0.0.1 localhost\n');
    // The symlink still names 'hosts', which is gone.
    expect((etc.lookup('link') as { target: string }).target).toBe('hosts');
  });

  it('renames a lower directory with its contents, over a lower name', () => {
    const { root } = fresh();
    root.rename('etc', root, 'gone-dir');
    expect(root.lookup('etc')).toBeUndefined();
    const moved = dir(root, 'gone-dir');
    expect(names(moved).sort()).toEqual(['hosts', 'link', 'passwd', 'sub']);
    expect(readText(dir(moved, 'sub').lookup('deep'))).toBe('deep');
    root.createDir('etc');
    expect(names(dir(root, 'etc'))).toEqual([]);
  });

  it('merges readdir: lower order first, upper additions after, deletions gone', () => {
    const { root } = fresh();
    const etc = dir(root, 'etc');
    etc.createFile('zz-new');
    etc.createFile('aa-new');
    etc.unlink('link');
    (etc.lookup('hosts') as FsFile).write(0, enc.encode('x'));
    expect(names(etc)).toEqual(['hosts', 'passwd', 'sub', 'zz-new', 'aa-new']);
    expect(names(root)).toEqual(['etc', 'gone-dir', 'work', 'work2']);
  });

  it('snapshot and restore round-trip the upper', () => {
    const { upper, root } = fresh();
    const etc = dir(root, 'etc');
    etc.createFile('new').write(0, enc.encode('fresh'));
    etc.createSymlink('sl', '/x/y');
    dir(etc, 'sub').createDir('nested').createFile('n').write(0, enc.encode('n'));
    etc.unlink('passwd');
    const snap = structuredClone(snapshotDir(upper));
    const back = restoreDir(snap, new MemTree(9n));
    expect(snapshotDir(back)).toEqual(snap);
    const again = createOverlay(lower, back);
    const etc2 = dir(again, 'etc');
    expect(names(etc2).sort()).toEqual(['hosts', 'link', 'new', 'sl', 'sub']);
    expect(readText(etc2.lookup('new'))).toBe('fresh');
    expect((etc2.lookup('sl') as { target: string }).target).toBe('/x/y');
    expect(readText(dir(dir(etc2, 'sub'), 'nested').lookup('n'))).toBe('n');
    expect(etc2.lookup('new')!.stat().mtim).toBe(etc.lookup('new')!.stat().mtim);
    expect(back.stat().dev).toBe(9n);
  });

  it('lower hardlinks stay linked through copy-up', async () => {
    const l = await layerOf([{ path: 'a', type: 'file', data: enc.encode('one') }]);
    l.index.entries.push({
      path: 'b',
      type: 'hardlink',
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
      offset: 0,
      linkname: 'a',
    });
    const root = createOverlay(buildLayerTree([l]), new MemTree().createRoot());
    expect(root.lookup('a')!.stat().ino).toBe(root.lookup('b')!.stat().ino);
    (root.lookup('a') as FsFile).write(0, enc.encode('ONE'));
    expect(readText(root.lookup('b'))).toBe('ONE');
    root.rename('b', root, 'c');
    (root.lookup('c') as FsFile).write(3, enc.encode('!'));
    expect(readText(root.lookup('a'))).toBe('ONE!');
    expect(root.lookup('a')!.stat().nlink).toBe(2n);
    root.unlink('a');
    expect(readText(root.lookup('c'))).toBe('ONE!');
    expect(root.lookup('b')).toBeUndefined();
  });

  it('lower writes stay EROFS', () => {
    expectFsError(() => lower.createFile('x'), 'EROFS');
    expectFsError(() => (dir(lower, 'etc').lookup('hosts') as FsFile).write(0, enc.encode('x')), 'EROFS');
    expectFsError(() => dir(lower, 'etc').unlink('hosts'), 'EROFS');
  });
});
