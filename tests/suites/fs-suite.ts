// The shared filesystem suite: every writable FsDir implementation (MemDir, the overlay over a
// layer tree, ...) must behave the same. `makeRoot` returns a fresh, empty, writable root.
import { describe, expect, it } from 'vitest';
import { FsError, type FsDir, type FsFile, type FsNode } from '../../runtime/core/index.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export function expectFsError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected FsError ${code}`).toBeInstanceOf(FsError);
  expect((thrown as FsError).code).toBe(code);
}

export function readAll(f: FsFile): Uint8Array {
  const out = new Uint8Array(Number(f.stat().size));
  let at = 0;
  while (at < out.length) {
    const k = f.read(at, out.subarray(at));
    if (k === 0) break;
    at += k;
  }
  return out.subarray(0, at);
}

export function readText(f: FsNode | undefined): string {
  expect(f?.kind).toBe('file');
  return dec.decode(readAll(f as FsFile));
}

function names(d: FsDir): string[] {
  return [...d.entries()].map(([n]) => n);
}

function sub(root: FsDir, name: string): FsDir {
  const d = root.lookup(name);
  expect(d?.kind).toBe('dir');
  return d as FsDir;
}

export function fsSuite(name: string, makeRoot: () => FsDir): void {
  describe(`filesystem: ${name}`, () => {
    it('creates, writes and reads a file', () => {
      const root = makeRoot();
      const f = root.createFile('a.txt');
      expect(f.write(0, enc.encode('hello'))).toBe(5);
      expect(f.write(5, enc.encode(' world'))).toBe(6);
      expect(readText(root.lookup('a.txt'))).toBe('hello world');
      expect(root.lookup('a.txt')!.stat().size).toBe(11n);
      expect(root.lookup('a.txt')!.stat().kind).toBe('file');
      const buf = new Uint8Array(4);
      expect(f.read(9, buf)).toBe(2);
      expect(f.read(11, buf)).toBe(0);
      expect(f.read(100, buf)).toBe(0);
    });

    it('refuses to create over an existing name (EEXIST)', () => {
      const root = makeRoot();
      root.createFile('x');
      root.createDir('d');
      expectFsError(() => root.createFile('x'), 'EEXIST');
      expectFsError(() => root.createDir('x'), 'EEXIST');
      expectFsError(() => root.createSymlink('d', 'x'), 'EEXIST');
    });

    it('reads holes as zeros and truncates both ways', () => {
      const root = makeRoot();
      const f = root.createFile('h');
      f.write(4, enc.encode('ab'));
      expect([...readAll(f)]).toEqual([0, 0, 0, 0, 97, 98]);
      f.truncate(2);
      expect(f.stat().size).toBe(2n);
      f.truncate(5);
      expect([...readAll(f)]).toEqual([0, 0, 0, 0, 0]);
      f.write(1, enc.encode('z'));
      f.truncate(0);
      expect(readAll(f).length).toBe(0);
      f.write(3, enc.encode('q'));
      expect([...readAll(f)]).toEqual([0, 0, 0, 113]);
    });

    it('mkdir, rmdir and ENOTEMPTY / ENOTDIR / ENOENT', () => {
      const root = makeRoot();
      const d = root.createDir('d');
      d.createFile('f');
      expectFsError(() => root.rmdir('d'), 'ENOTEMPTY');
      expectFsError(() => root.rmdir('nope'), 'ENOENT');
      d.unlink('f');
      root.createFile('file');
      expectFsError(() => root.rmdir('file'), 'ENOTDIR');
      root.rmdir('d');
      expect(root.lookup('d')).toBeUndefined();
      expect(names(root)).toEqual(['file']);
    });

    it('unlink: EISDIR for a directory, ENOENT when missing', () => {
      const root = makeRoot();
      root.createDir('d');
      root.createFile('f');
      expectFsError(() => root.unlink('d'), 'EISDIR');
      expectFsError(() => root.unlink('missing'), 'ENOENT');
      root.unlink('f');
      expect(root.lookup('f')).toBeUndefined();
      expectFsError(() => root.unlink('f'), 'ENOENT');
    });

    it('renames a file over a file, keeping the moved inode', () => {
      const root = makeRoot();
      const a = root.createFile('a');
      a.write(0, enc.encode('A'));
      root.createFile('b').write(0, enc.encode('B'));
      const ino = root.lookup('a')!.stat().ino;
      root.rename('a', root, 'b');
      expect(root.lookup('a')).toBeUndefined();
      expect(readText(root.lookup('b'))).toBe('A');
      expect(root.lookup('b')!.stat().ino).toBe(ino);
      expect(names(root)).toEqual(['b']);
    });

    it('renames a directory over an empty one, and across directories', () => {
      const root = makeRoot();
      const src = root.createDir('src');
      src.createFile('inside').write(0, enc.encode('x'));
      root.createDir('dst');
      root.rename('src', root, 'dst');
      expect(root.lookup('src')).toBeUndefined();
      expect(readText(sub(root, 'dst').lookup('inside'))).toBe('x');
      const other = root.createDir('other');
      sub(root, 'dst').rename('inside', other, 'moved');
      expect(sub(root, 'dst').lookup('inside')).toBeUndefined();
      expect(readText(sub(root, 'other').lookup('moved'))).toBe('x');
    });

    it('rename errors: ENOTEMPTY, EISDIR, ENOTDIR, EINVAL (into itself), ENOENT', () => {
      const root = makeRoot();
      const a = root.createDir('a');
      const full = root.createDir('full');
      full.createFile('x');
      root.createFile('f');
      expectFsError(() => root.rename('a', root, 'full'), 'ENOTEMPTY');
      expectFsError(() => root.rename('f', root, 'a'), 'EISDIR');
      expectFsError(() => root.rename('a', root, 'f'), 'ENOTDIR');
      const inner = a.createDir('inner');
      expectFsError(() => root.rename('a', inner, 'a2'), 'EINVAL');
      expectFsError(() => root.rename('a', sub(sub(root, 'a'), 'inner'), 'a2'), 'EINVAL');
      expectFsError(() => root.rename('missing', root, 'z'), 'ENOENT');
      // Nothing moved.
      expect(names(root).sort()).toEqual(['a', 'f', 'full']);
      expect(sub(root, 'full').lookup('x')?.kind).toBe('file');
    });

    it('rename onto itself is a no-op', () => {
      const root = makeRoot();
      root.createFile('same').write(0, enc.encode('s'));
      root.rename('same', root, 'same');
      expect(readText(root.lookup('same'))).toBe('s');
    });

    it('symlinks keep their target and are not followed', () => {
      const root = makeRoot();
      const l = root.createSymlink('ln', '../outside/target');
      expect(l.target).toBe('../outside/target');
      const found = root.lookup('ln');
      expect(found?.kind).toBe('symlink');
      expect((found as { target: string }).target).toBe('../outside/target');
      expect(found!.stat().size).toBe(BigInt('../outside/target'.length));
      root.unlink('ln');
      expect(root.lookup('ln')).toBeUndefined();
    });

    it('hard links share data and count links', () => {
      const root = makeRoot();
      const f = root.createFile('one');
      f.write(0, enc.encode('shared'));
      const d = root.createDir('d');
      d.link('two', root.lookup('one')!);
      expect(root.lookup('one')!.stat().nlink).toBe(2n);
      expect(d.lookup('two')!.stat().ino).toBe(root.lookup('one')!.stat().ino);
      (d.lookup('two') as FsFile).write(0, enc.encode('SH'));
      expect(readText(root.lookup('one'))).toBe('SHared');
      root.unlink('one');
      expect(d.lookup('two')!.stat().nlink).toBe(1n);
      expect(readText(d.lookup('two'))).toBe('SHared');
      expectFsError(() => root.link('dd', root.lookup('d')!), 'EPERM');
      expectFsError(() => d.link('two', d.lookup('two')!), 'EEXIST');
    });

    it('keeps inode numbers stable and distinct', () => {
      const root = makeRoot();
      root.createFile('a');
      root.createDir('b');
      const a1 = root.lookup('a')!.stat().ino;
      const b1 = root.lookup('b')!.stat().ino;
      expect(a1).not.toBe(b1);
      expect(root.lookup('a')!.stat().ino).toBe(a1);
      (root.lookup('a') as FsFile).write(0, enc.encode('grow'));
      expect(root.lookup('a')!.stat().ino).toBe(a1);
      expect(root.lookup('a')!.stat().dev).toBe(root.stat().dev);
    });

    it('lists entries in a stable order, without . and ..', () => {
      const root = makeRoot();
      for (const n of ['c', 'a', 'b']) root.createFile(n);
      const first = names(root);
      expect([...first].sort()).toEqual(['a', 'b', 'c']);
      expect(names(root)).toEqual(first);
      root.unlink('a');
      expect(names(root)).toEqual(first.filter((n) => n !== 'a'));
    });

    it('setTimes sets the times it is given and keeps the others', () => {
      const root = makeRoot();
      const f = root.createFile('t');
      f.setTimes(1_000_000_000n, 2_000_000_000n);
      expect(root.lookup('t')!.stat().atim).toBe(1_000_000_000n);
      expect(root.lookup('t')!.stat().mtim).toBe(2_000_000_000n);
      f.setTimes(null, 3_000_000_000n);
      expect(root.lookup('t')!.stat().atim).toBe(1_000_000_000n);
      expect(root.lookup('t')!.stat().mtim).toBe(3_000_000_000n);
    });
  });
}
