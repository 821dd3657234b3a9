// The packed layer index: exact round trip against LayerIndex, the lazy tree built from it agrees
// with the one built from the plain index, and corrupt or truncated bytes fail as 'data-loss'.
import { describe, expect, it } from 'vitest';
import { RuntimeError, type FsDir, type FsFile, type FsNode, type FsSymlink } from '../core/index.ts';
import { buildLayerTree } from './layer-tree.ts';
import { decodeLayerIndex, PackedLayerIndex, PackedLayout } from './packed-index.ts';
import { encodeLayerIndex } from './packed-index-encode.ts';
import type { LayerEntry, LayerIndex } from '../core/index.ts';

let offset = 512;
function e(path: string, type: LayerEntry['type'] = 'file', more: Partial<LayerEntry> = {}): LayerEntry {
  offset += 1024;
  return {
    path,
    type,
    mode: type === 'dir' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    mtime: 1_700_000_000_123.5,
    size: type === 'file' ? 3 : 0,
    offset,
    ...more,
  };
}
const index = (entries: LayerEntry[]): LayerIndex => ({ entries, size: offset + 4096 });
/** Each layer's bytes are its number, so a file read tells which layer it came from. */
const source = (layer: number) => ({ read: (_: number, into: Uint8Array) => (into.fill(65 + layer), into.length) });
const layer = (i: LayerIndex, n: number, packed: boolean) => ({
  index: packed ? encodeLayerIndex(i) : i,
  source: source(n),
});

function flatten(d: FsDir, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [name, n] of d.entries()) {
    const p = prefix + name;
    const s = n.stat();
    const tag = `${n.kind}:${s.mode.toString(8)}:${s.mtim}:${s.nlink}`;
    if (n.kind === 'dir') {
      out[p] = tag;
      flatten(n, `${p}/`, out);
    } else if (n.kind === 'file') {
      const b = new Uint8Array(Math.min(8, Number(s.size)));
      (n as FsFile).read(0, b);
      out[p] = `${tag}:${new TextDecoder().decode(b)}`;
    } else out[p] = `${tag}:${(n as FsSymlink).target}`;
  }
  return out;
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof RuntimeError) return err.code;
    throw err;
  }
  return undefined;
}

const sample = index([
  e('etc', 'dir'),
  e('etc/passwd'),
  e('etc/hosts', 'symlink', { linkname: '/run/hosts' }),
  e('etc/hardlinked', 'hardlink', { linkname: 'etc/passwd' }),
  e('usr/lib/deep/file', 'file', { mode: 0o4755, uid: 1000, gid: 2 ** 33, size: 2 ** 40, offset: 2 ** 41 + 7 }),
  e('var/gone', 'whiteout'),
  e('var/cache', 'opaque'),
  e('ünïcødé/名前/🙂', 'file'),
]);
sample.size = 2 ** 42;

describe('packed layer index', () => {
  it('round-trips a LayerIndex exactly, with big numbers, UTF-8, links and markers', () => {
    const packed = encodeLayerIndex(sample);
    expect(decodeLayerIndex(packed)).toEqual(sample);
    expect(decodeLayerIndex(encodeLayerIndex({ entries: [], size: 0 }))).toEqual({ entries: [], size: 0 });
    // One exact-size buffer: what the record store copies is the index, nothing more.
    expect(packed.byteOffset).toBe(0);
    expect(packed.buffer.byteLength).toBe(packed.length);
  });

  it('round-trips long names and a directory with many entries, and finds any directory by path', () => {
    const long = 'n'.repeat(3000);
    const entries = [e('big', 'dir')];
    for (let i = 0; i < 5000; i++) entries.push(e(`big/f${i}`));
    entries.push(e(`${long}/${long}é/${long}`, 'symlink', { linkname: long }));
    const i = index(entries);
    const p = PackedLayerIndex.open(encodeLayerIndex(i));
    expect(p.toLayerIndex()).toEqual(i);
    expect(p.dirPath(p.findDir(`${long}/${long}é`))).toBe(`${long}/${long}é`);
    expect(p.findDir('big')).toBeGreaterThan(0);
    expect(p.findDir('')).toBe(0);
    expect(p.findDir('bi')).toBe(-1);
    const t = buildLayerTree([layer(i, 0, true)]);
    const big = t.lookup('big') as FsDir;
    expect([...big.entries()].length).toBe(5000);
    expect(big.lookup('f4999')?.kind).toBe('file');
    const deep = ((t.lookup(long) as FsDir).lookup(`${long}é`) as FsDir).lookup(long) as FsSymlink;
    expect(deep.target).toBe(long);
  });

  it('builds the same tree packed (lazily) as from the plain index: whiteouts, opaque, re-creation, hardlinks', () => {
    const l0 = index([
      e('a', 'dir'),
      e('a/keep'),
      e('a/drop'),
      e('a/sub/x'),
      e('o', 'dir', { mode: 0o700 }),
      e('o/old'),
      e('o/inner/y'),
      e('f', 'dir'),
      e('f/z'),
      e('s', 'symlink', { linkname: 'a' }),
      e('h1'),
      e('h2', 'hardlink', { linkname: 'h1' }),
    ]);
    const l1 = index([
      e('a/.wh.gone-nothing', 'file'),
      e('a/drop', 'whiteout'),
      e('a/sub', 'whiteout'),
      e('a/sub/new'),
      e('o', 'opaque'),
      e('o/fresh'),
      e('f', 'file'),
      e('h2', 'whiteout'),
      e('s', 'whiteout'),
      e('s', 'dir', { mode: 0o711 }),
    ]);
    const l2 = index([e('f', 'whiteout'), e('f/again/deeper'), e('o', 'dir', { mode: 0o750, mtime: 5 })]);
    const plain = flatten(buildLayerTree([layer(l0, 0, false), layer(l1, 1, false), layer(l2, 2, false)]));
    const packed = flatten(buildLayerTree([layer(l0, 0, true), layer(l1, 1, true), layer(l2, 2, true)]));
    expect(packed).toEqual(plain);
    expect(Object.keys(packed).sort()).toEqual(
      [
        'a',
        'a/.wh.gone-nothing',
        'a/keep',
        'a/sub',
        'a/sub/new',
        'f',
        'f/again',
        'f/again/deeper',
        'h1',
        'o',
        'o/fresh',
        's',
      ].sort(),
    );
    expect(packed.o).toBe('dir:750:5000000:2');
    expect(packed.h1).toMatch(/^file:644:\d+:1:AAA$/); // its hardlink h2 was whited out above
    expect(packed['a/keep']).toMatch(/:AAA$/);
    expect(packed['a/sub/new']).toMatch(/:BBB$/);
  });

  it('counts hardlinks lazily and shares one node between them', () => {
    const l0 = index([e('d/f'), e('d/g', 'hardlink', { linkname: 'd/f' }), e('e/h', 'hardlink', { linkname: 'd/g' })]);
    const t = buildLayerTree([layer(l0, 0, true)]);
    const f = (t.lookup('d') as FsDir).lookup('f') as FsNode;
    expect(f.stat().nlink).toBe(3n);
    expect((t.lookup('e') as FsDir).lookup('h')).toBe(f);
    const t2 = buildLayerTree([layer(l0, 0, true), layer(index([e('d/g', 'whiteout')]), 1, true)]);
    expect(((t2.lookup('d') as FsDir).lookup('f') as FsNode).stat().nlink).toBe(2n);
  });

  it('refuses an entry through a lower symlink when its directory is reached, or up front with validate', () => {
    const lower = index([e('etc', 'dir'), e('evil', 'symlink', { linkname: '/etc' })]);
    const upper = index([e('evil/passwd')]);
    const layers = [layer(lower, 0, true), layer(upper, 1, true)];
    expect(code(() => buildLayerTree(layers, { validate: true }))).toBe('invalid-argument');
    const lazy = buildLayerTree(layers);
    expect(code(() => lazy.lookup('etc'))).toBe('invalid-argument');
    // A refused hardlink never gets packed.
    expect(code(() => encodeLayerIndex(index([e('l', 'hardlink', { linkname: 'missing' })])))).toBe('invalid-argument');
    expect(
      code(() =>
        encodeLayerIndex(
          index([e('d/f'), e('d', 'symlink', { linkname: 'x' }), e('l', 'hardlink', { linkname: 'd/f' })]),
        ),
      ),
    ).toBe('invalid-argument');
  });

  it('reads only the directories a lookup reaches: a corrupt directory elsewhere is not noticed', () => {
    const entries = [e('ok/file')];
    for (let i = 0; i < 50; i++) entries.push(e(`other/f${i}`));
    const bytes = encodeLayerIndex(index(entries));
    const p = PackedLayerIndex.open(bytes);
    // Point the first event of "other" at an entry that does not exist.
    const v = new DataView(bytes.buffer);
    const dirAt = PackedLayout.header + p.entryCount * PackedLayout.entry + p.findDir('other') * PackedLayout.dir;
    const eventsAt = PackedLayout.header + p.entryCount * PackedLayout.entry + p.dirCount * PackedLayout.dir;
    v.setUint32(eventsAt + v.getUint32(dirAt + 8, true) * PackedLayout.event, 1e9, true);
    const t = buildLayerTree([{ index: bytes, source: source(0) }]);
    expect(((t.lookup('ok') as FsDir).lookup('file') as FsNode).kind).toBe('file');
    expect(code(() => t.lookup('other')!.stat().nlink)).toBe('data-loss');
  });

  it("refuses corrupt or truncated packed bytes as 'data-loss', never as a crash", () => {
    const good = encodeLayerIndex(sample);
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      good.subarray(0, 20),
      good.subarray(0, good.length - 1),
      new Uint8Array([...good, 0]),
    ];
    const flip = (at: number, value: number) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(at, value, true);
      bad.push(b);
    };
    flip(0, 0x1234); // magic
    flip(4, 99); // version
    flip(16, 2); // entry count
    flip(32, 0xffff_fff0); // string bytes
    for (const b of bad)
      expect(
        code(() => decodeLayerIndex(b)),
        `${b.length} bytes`,
      ).toBe('data-loss');
    for (const b of bad) expect(code(() => buildLayerTree([{ index: b, source: source(0) }]))).toBe('data-loss');
    // Any damaged byte of the body decodes, or fails as data-loss (or as a refused entry), and
    // never crashes or loops: the whole tree is walked each time.
    for (let at = PackedLayout.header; at < good.length * 2; at++) {
      const b = good.slice();
      b[at % good.length] ^= at < good.length ? 0xff : 0x01;
      const c = code(() => {
        decodeLayerIndex(b);
        flatten(buildLayerTree([{ index: b, source: source(0) }]));
      });
      expect([undefined, 'data-loss', 'invalid-argument']).toContain(c);
    }
  });
});
