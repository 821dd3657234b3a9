// The sandboxed resolver on its own: what a path names, and every way out refused.
import { describe, expect, it } from 'vitest';
import { MemTree } from '../vfs/mem-tree.ts';
import { Errno, WasiError } from './index.ts';
import { MAX_SYMLINK_EXPANSIONS, resolvePath } from './path-resolver.ts';

function tree() {
  const root = new MemTree().createRoot();
  const a = root.createDir('a');
  const b = a.createDir('b');
  const f = b.createFile('f');
  root.createSymlink('la', 'a');
  a.createSymlink('lf', 'b/f');
  a.createSymlink('up2', '../..');
  a.createSymlink('rootlink', '..');
  a.createSymlink('abs', '/a');
  root.createSymlink('slash', 'a/b/');
  return { root, a, b, f };
}

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof WasiError) return e.errno;
    throw e;
  }
  return 0;
}

describe('resolvePath', () => {
  it('names nodes, parents and last components', () => {
    const { root, a, b, f } = tree();
    expect(resolvePath(root, 'a/b/f', false)).toMatchObject({ parent: b, name: 'f', node: f, mustBeDir: false });
    expect(resolvePath(root, 'a//b/./f', false)).toMatchObject({ parent: b, name: 'f', node: f });
    expect(resolvePath(root, 'a/b/missing', false)).toMatchObject({ parent: b, name: 'missing', node: undefined });
    expect(resolvePath(root, 'a/b/', false)).toMatchObject({ parent: a, name: 'b', node: b, mustBeDir: true });
    expect(resolvePath(root, '.', false)).toMatchObject({ node: root, name: '.' });
    expect(resolvePath(root, 'a/b/..', false)).toMatchObject({ node: a, name: '..', nodeParent: root });
    expect(resolvePath(root, 'f', false)).toMatchObject({ parent: root, name: 'f', node: undefined });
  });
  it('follows symlinks in the middle always, at the end only when asked', () => {
    const { root, a, b, f } = tree();
    expect(resolvePath(root, 'la/b/f', false).node).toBe(f);
    expect(resolvePath(root, 'la', false).node?.kind).toBe('symlink');
    expect(resolvePath(root, 'la', true).node).toBe(a);
    expect(resolvePath(root, 'a/lf', true)).toMatchObject({ parent: b, node: f });
    expect(resolvePath(root, 'a/rootlink/a', true).node).toBe(a);
    expect(resolvePath(root, 'slash', true)).toMatchObject({ node: b, mustBeDir: true });
  });
  it('refuses to leave the base directory', () => {
    const { root, a } = tree();
    expect(errnoOf(() => resolvePath(root, '..', false))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, 'a/../..', false))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, '/a', false))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, 'a/up2/x', false))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, 'a/abs', true))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(root, 'a/abs/x', false))).toBe(Errno.NOTCAPABLE);
    // From a subdirectory, its own parent is outside too (as in wasmtime).
    expect(errnoOf(() => resolvePath(a, '..', false))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(a, 'rootlink/x', false))).toBe(Errno.NOTCAPABLE);
    expect(resolvePath(a, 'abs', false).node?.kind).toBe('symlink'); // not followed: no harm
  });
  it('reports NOENT, NOTDIR, LOOP, INVAL', () => {
    const { root } = tree();
    expect(errnoOf(() => resolvePath(root, '', false))).toBe(Errno.NOENT);
    expect(errnoOf(() => resolvePath(root, 'nope/x', false))).toBe(Errno.NOENT);
    expect(errnoOf(() => resolvePath(root, 'a/b/f/x', false))).toBe(Errno.NOTDIR);
    expect(errnoOf(() => resolvePath(root, 'a\0b', false))).toBe(Errno.INVAL);
    root.createSymlink('l1', 'l2');
    root.createSymlink('l2', 'l1');
    expect(errnoOf(() => resolvePath(root, 'l1', true))).toBe(Errno.LOOP);
    expect(errnoOf(() => resolvePath(root, 'l1/x', false))).toBe(Errno.LOOP);
    root.createSymlink('empty', '');
    expect(errnoOf(() => resolvePath(root, 'empty/x', false))).toBe(Errno.NOENT);
  });
  it('allows exactly 40 expansions', () => {
    const root = new MemTree().createRoot();
    root.createFile('target');
    let prev = 'target';
    for (let i = 0; i < MAX_SYMLINK_EXPANSIONS + 1; i++) {
      root.createSymlink(`s${i}`, prev);
      prev = `s${i}`;
    }
    expect(resolvePath(root, `s${MAX_SYMLINK_EXPANSIONS - 1}`, true).node?.kind).toBe('file');
    expect(errnoOf(() => resolvePath(root, `s${MAX_SYMLINK_EXPANSIONS}`, true))).toBe(Errno.LOOP);
  });
});

describe('resolvePath: over-long names', () => {
  it('gives NAMETOOLONG for a component over 255 bytes or a path of 4096 bytes, as Linux', () => {
    const { root, a } = tree();
    expect(errnoOf(() => resolvePath(root, 'x'.repeat(255), false))).toBe(0);
    expect(errnoOf(() => resolvePath(root, 'x'.repeat(256), false))).toBe(Errno.NAMETOOLONG);
    expect(errnoOf(() => resolvePath(root, `a/${'x'.repeat(256)}`, false))).toBe(Errno.NAMETOOLONG);
    expect(errnoOf(() => resolvePath(root, `${'x'.repeat(256)}/a`, false))).toBe(Errno.NAMETOOLONG);
    expect(errnoOf(() => resolvePath(root, 'é'.repeat(127), false))).toBe(0); // 254 bytes
    expect(errnoOf(() => resolvePath(root, 'é'.repeat(128), false))).toBe(Errno.NAMETOOLONG); // 256 bytes
    expect(errnoOf(() => resolvePath(root, `${'a/'.repeat(2047)}b`, false))).toBe(Errno.NOENT); // 4095 bytes: a/a does not exist
    expect(errnoOf(() => resolvePath(root, './'.repeat(2048), false))).toBe(Errno.NAMETOOLONG); // 4096 bytes
    a.createSymlink('longname', 'y'.repeat(256));
    expect(errnoOf(() => resolvePath(root, 'a/longname', true))).toBe(Errno.NAMETOOLONG);
  });
});
