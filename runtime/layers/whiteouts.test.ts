// Three layers written by GNU tar, merged by buildLayerTree: whiteouts of a file and a directory,
// an opaque directory, re-creation after delete, and hardlinks; compared with the expected tree.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FsDir, FsFile, FsSymlink } from '../core/index.ts';
import { buildLayerTree } from '../vfs/index.ts';
import { bufferSource, layerOf, streamOf } from '../../tests/suites/layer-helpers.ts';
import { expectFsError, readAll } from '../../tests/suites/fs-suite.ts';
import { indexLayer } from './index-layer.ts';

let tmp: string;
const dec = new TextDecoder();

function layerDir(name: string, files: Record<string, string | { link: string } | null>): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(root, { recursive: true });
  for (const [p, v] of Object.entries(files)) {
    const full = path.join(root, p);
    if (v === null) fs.mkdirSync(full, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      if (typeof v === 'string') fs.writeFileSync(full, v);
      else fs.symlinkSync(v.link, full);
    }
  }
  return root;
}

async function tarLayer(dir: string) {
  const out = `${dir}.tar`;
  execFileSync('tar', ['--format=pax', '--sort=name', '-cf', out, '-C', dir, '.']);
  const tar = new Uint8Array(fs.readFileSync(out));
  return { index: await indexLayer(streamOf(tar, 4096)), source: bufferSource(tar) };
}

/** path -> 'dir' | 'file:<content>' | 'symlink:<target>' for the whole tree. */
function flatten(d: FsDir, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [name, n] of d.entries()) {
    const p = prefix + name;
    if (n.kind === 'dir') {
      out[p] = 'dir';
      flatten(n, `${p}/`, out);
    } else if (n.kind === 'file') out[p] = `file:${dec.decode(readAll(n))}`;
    else out[p] = `symlink:${n.target}`;
  }
  return out;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-wh-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('buildLayerTree with whiteouts (OCI image spec)', () => {
  it('applies file and directory whiteouts and opaque directories across three layers', async () => {
    const l1 = await tarLayer(
      layerDir('l1', {
        'etc/hosts': 'hosts-1',
        'etc/passwd': 'passwd-1',
        'var/cache/a': 'a',
        'var/cache/sub/b': 'b',
        'opt/keep': 'keep',
        'opt/drop': 'drop',
        'usr/lib/x': 'x',
        'usr/bin/sh': 'sh',
      }),
    );
    const l2 = await tarLayer(
      layerDir('l2', {
        'etc/.wh.passwd': '', // delete a file
        '.wh.var': '', // delete a directory with contents
        'opt/.wh..wh..opq': '', // opaque: lower opt/* gone...
        'opt/new': 'new', // ...but this layer's own entries stay
        'usr/lib/y': 'y',
        'usr/bin/ln-sh': { link: 'sh' },
      }),
    );
    const l3 = await tarLayer(
      layerDir('l3', {
        'var/fresh': 'fresh', // re-created after the delete below
        'etc/passwd': 'passwd-3', // re-created after delete
        'usr/lib/.wh.x': '',
        'usr/.wh.bin': '',
      }),
    );
    const expected2 = {
      etc: 'dir',
      'etc/hosts': 'file:hosts-1',
      opt: 'dir',
      'opt/new': 'file:new',
      usr: 'dir',
      'usr/bin': 'dir',
      'usr/bin/ln-sh': 'symlink:sh',
      'usr/bin/sh': 'file:sh',
      'usr/lib': 'dir',
      'usr/lib/x': 'file:x',
      'usr/lib/y': 'file:y',
    };
    expect(flatten(buildLayerTree([l1, l2]))).toEqual(expected2);
    expect(flatten(buildLayerTree([l1, l2, l3]))).toEqual({
      etc: 'dir',
      'etc/hosts': 'file:hosts-1',
      'etc/passwd': 'file:passwd-3',
      opt: 'dir',
      'opt/new': 'file:new',
      usr: 'dir',
      'usr/lib': 'dir',
      'usr/lib/y': 'file:y',
      var: 'dir',
      'var/fresh': 'file:fresh',
    });
    // Whiteout entries are indexed as such and never visible.
    expect(
      l2.index.entries
        .filter((e) => e.type === 'whiteout' || e.type === 'opaque')
        .map((e) => [e.type, e.path])
        .sort(),
    ).toEqual([
      ['opaque', 'opt'],
      ['whiteout', 'etc/passwd'],
      ['whiteout', 'var'],
    ]);
    expect(JSON.stringify(flatten(buildLayerTree([l1, l2, l3])))).not.toMatch(/\.wh\./);
    // A lone layer's whiteouts hide nothing of its own.
    expect(flatten(buildLayerTree([l3]))).toEqual({
      etc: 'dir',
      'etc/passwd': 'file:passwd-3',
      usr: 'dir',
      'usr/lib': 'dir',
      var: 'dir',
      'var/fresh': 'file:fresh',
    });
  });

  // `.wh..wh..opq` at the root of a layer (GNU tar writes it `./.wh..wh..opq`): everything the
  // layers below put anywhere is hidden, and the layer's own entries and those above stay.
  it('an opaque marker at the root hides every lower layer', async () => {
    const l1 = await tarLayer(layerDir('r1', { 'etc/hosts': 'hosts-1', 'bin/sh': 'sh', top: 't' }));
    const l2 = await tarLayer(layerDir('r2', { '.wh..wh..opq': '', 'etc/motd': 'motd-2', app: 'a' }));
    const l3 = await tarLayer(layerDir('r3', { 'etc/issue': 'issue-3' }));
    expect(l2.index.entries.filter((e) => e.type === 'opaque').map((e) => e.path)).toEqual(['']);
    expect(flatten(buildLayerTree([l1, l2, l3]))).toEqual({
      app: 'file:a',
      etc: 'dir',
      'etc/issue': 'file:issue-3',
      'etc/motd': 'file:motd-2',
    });
    // Alone, it hides nothing of its own.
    expect(flatten(buildLayerTree([l2]))).toEqual({ app: 'file:a', etc: 'dir', 'etc/motd': 'file:motd-2' });
  });

  it('an upper file replaces a lower directory and the other way round', async () => {
    const a = await layerOf([
      { path: 'x', type: 'dir' },
      { path: 'x/inner', type: 'file', data: new Uint8Array([1]) },
      { path: 'y', type: 'file', data: new Uint8Array([2]) },
    ]);
    const b = await layerOf([
      { path: 'x', type: 'file', data: new Uint8Array([3]) },
      { path: 'y', type: 'dir', mode: 0o700 },
      { path: 'y/z', type: 'file' },
    ]);
    const t = buildLayerTree([a, b]);
    expect(flatten(t)).toEqual({ x: 'file:\u0003', y: 'dir', 'y/z': 'file:' });
    expect(t.lookup('y')!.stat().mode).toBe(0o700);
  });

  it('shares one node between hardlinks, reads lazily at the entry offset, and is read-only', async () => {
    const dir = layerDir('hl', { 'a/file': 'linked content', other: 'o' });
    fs.linkSync(path.join(dir, 'a/file'), path.join(dir, 'link2'));
    const layer = await tarLayer(dir);
    const reads: number[] = [];
    const source = { read: (pos: number, into: Uint8Array) => (reads.push(pos), layer.source.read(pos, into)) };
    const t = buildLayerTree([{ index: layer.index, source }], { dev: 42n });
    expect(reads).toEqual([]); // nothing read while building
    const f = (t.lookup('a') as FsDir).lookup('file') as FsFile;
    const l = t.lookup('link2') as FsFile;
    expect(f).toBe(l);
    expect(f.stat().nlink).toBe(2n);
    expect(f.stat().ino).toBe(l.stat().ino);
    expect(f.stat().dev).toBe(42n);
    const part = new Uint8Array(7);
    expect(f.read(7, part)).toBe(7);
    expect(dec.decode(part)).toBe('content');
    const entry = layer.index.entries.find((e) => e.path === 'a/file')!;
    expect(reads).toEqual([entry.offset + 7]);
    expect(f.read(14, part)).toBe(0);
    expectFsError(() => f.write(0, new Uint8Array(1)), 'EROFS');
    expectFsError(() => f.truncate(0), 'EROFS');
    expectFsError(() => f.setTimes(1n, 1n), 'EROFS');
    expectFsError(() => t.createDir('n'), 'EROFS');
    expectFsError(() => t.rename('other', t, 'x'), 'EROFS');
    expectFsError(() => t.unlink('other'), 'EROFS');
  });

  it('keeps modes, times and symlinks, and entries sorted by name', async () => {
    const layer = await layerOf([
      { path: 'b', type: 'file', mode: 0o4755, mtime: 1_600_000_000_500 },
      { path: 'a', type: 'symlink', linkname: '/etc/target' },
      { path: 'c', type: 'dir', mode: 0o1777 },
    ]);
    const t = buildLayerTree([layer]);
    expect([...t.entries()].map(([n]) => n)).toEqual(['a', 'b', 'c']);
    expect(t.lookup('b')!.stat()).toMatchObject({ mode: 0o4755, mtim: 1_600_000_000_500_000_000n, kind: 'file' });
    expect((t.lookup('a') as FsSymlink).target).toBe('/etc/target');
    expect(t.lookup('c')!.stat().mode).toBe(0o1777);
  });

  it('refuses an entry placed through a symlink (or a file), never following it', async () => {
    const lower = await layerOf([
      { path: 'etc', type: 'dir' },
      { path: 'evil', type: 'symlink', linkname: '/etc' },
    ]);
    const upper = await layerOf([{ path: 'evil/passwd', type: 'file', data: new Uint8Array([1]) }]);
    let code: string | undefined;
    try {
      buildLayerTree([lower, upper]);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('invalid-argument');
    // The same in one layer: a tar with symlink then entry below it.
    const one = await layerOf([
      { path: 'lnk', type: 'symlink', linkname: 'real' },
      { path: 'real', type: 'dir' },
    ]);
    const two = await layerOf([{ path: 'lnk/x', type: 'file' }]);
    expect(() => buildLayerTree([one, two])).toThrow(/symlink/);
    expect((buildLayerTree([one]).lookup('real') as FsDir).lookup('x')).toBeUndefined();
  });

  it('refuses a hardlink whose target is missing in the merged tree', async () => {
    const layer = await layerOf([{ path: 'f', type: 'file' }]);
    const forged = {
      ...layer,
      index: {
        ...layer.index,
        entries: [
          ...layer.index.entries,
          {
            path: 'l',
            type: 'hardlink' as const,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            size: 0,
            offset: 0,
            linkname: 'missing',
          },
        ],
      },
    };
    expect(() => buildLayerTree([forged])).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});
