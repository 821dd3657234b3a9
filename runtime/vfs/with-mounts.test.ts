import { describe, expect, it } from 'vitest';
import type { FsDir, FsFile } from '../core/index.ts';
import { expectFsError, fsSuite, readText } from '../../tests/suites/fs-suite.ts';
import { MemTree } from './mem-tree.ts';
import { withMounts } from './with-mounts.ts';

const enc = new TextEncoder();

fsSuite('withMounts (inside a mounted volume)', () => {
  const root = withMounts(new MemTree(1n).createRoot(), [{ path: 'data', dir: new MemTree(2n).createRoot() }]);
  return root.lookup('data') as FsDir;
});
fsSuite('withMounts (root, no mounts)', () => withMounts(new MemTree(1n).createRoot(), []));

describe('withMounts', () => {
  const setup = () => {
    const base = new MemTree(1n).createRoot();
    base.createDir('etc').createFile('conf').write(0, enc.encode('c'));
    base.createDir('data').createFile('hidden-by-mount');
    const vol = new MemTree(2n).createRoot();
    vol.createFile('db').write(0, enc.encode('rows'));
    const deep = new MemTree(3n).createRoot();
    const root = withMounts(base, [
      { path: 'data', dir: vol },
      { path: '/mnt/deep/', dir: deep },
    ]);
    return { base, vol, deep, root };
  };

  it('shows mount points in lookup and readdir', () => {
    const { root } = setup();
    expect([...root.entries()].map(([n]) => n)).toEqual(['etc', 'data', 'mnt']);
    const data = root.lookup('data') as FsDir;
    expect([...data.entries()].map(([n]) => n)).toEqual(['db']);
    expect(readText(data.lookup('db'))).toBe('rows');
    expect(data.stat().dev).toBe(2n);
    const deep = (root.lookup('mnt') as FsDir).lookup('deep') as FsDir;
    expect(deep.stat().dev).toBe(3n);
    deep.createFile('w').write(0, enc.encode('w'));
    expect(readText(((root.lookup('mnt') as FsDir).lookup('deep') as FsDir).lookup('w'))).toBe('w');
  });

  it('writes go to the volume', () => {
    const { root, vol } = setup();
    (root.lookup('data') as FsDir).createFile('new').write(0, enc.encode('n'));
    expect(vol.lookup('new')?.kind).toBe('file');
  });

  it('rename and link across a mount boundary are EXDEV; a mount point cannot go', () => {
    const { root } = setup();
    const data = root.lookup('data') as FsDir;
    const etc = root.lookup('etc') as FsDir;
    expectFsError(() => etc.rename('conf', data, 'conf'), 'EXDEV');
    expectFsError(() => data.rename('db', etc, 'db'), 'EXDEV');
    expectFsError(() => data.link('conf', etc.lookup('conf')!), 'EXDEV');
    expectFsError(() => root.rmdir('data'), 'EPERM');
    expectFsError(() => root.rename('data', root, 'data2'), 'EPERM');
    expectFsError(() => root.rename('etc', root, 'data'), 'EPERM');
    expectFsError(() => root.createDir('data'), 'EEXIST');
    // Within one volume, through wrapped directories, rename still works.
    const sub = etc.createDir('sub');
    etc.rename('conf', sub, 'moved');
    expect(readText((etc.lookup('sub') as FsDir).lookup('moved'))).toBe('c');
    (etc.lookup('sub') as FsDir).rename('moved', root, 'top');
    expect((root.lookup('top') as FsFile).stat().kind).toBe('file');
  });

  it('a missing parent of a mount point is an empty stand-in that takes no writes (EROFS): no Space counts it', () => {
    const { root, deep } = setup();
    const mnt = root.lookup('mnt') as FsDir;
    expect([...mnt.entries()].map(([n]) => n)).toEqual(['deep']);
    expectFsError(() => mnt.createFile('x'), 'EROFS');
    expectFsError(() => mnt.createDir('y'), 'EROFS');
    // The mount below it is written as usual.
    (mnt.lookup('deep') as FsDir).createFile('ok');
    expect(deep.lookup('ok')).toBeDefined();
  });
});
