// Indexes archives written by GNU tar (pax, gnu, ustar; plain and gzip) and compares every entry
// with the source tree they were made from.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../core/index.ts';
import { streamOf } from '../../tests/suites/layer-helpers.ts';
import { decompressLayer } from './decompress-layer.ts';
import { indexLayer } from './index-layer.ts';
import type { LayerEntry, LayerIndex } from '../core/index.ts';

let tmp: string;
const LONG_DIR = 'd'.repeat(120);
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(150)}`; // 271 bytes: beyond ustar's 255
const MID_FILE = `${'m'.repeat(60)}/${'n'.repeat(80)}`; // 141 bytes: fits ustar's prefix + name
const LONG_TARGET = `../${'t'.repeat(140)}/target`;
const T = 1_700_000_000.25; // seconds, exact in binary

function mkTree(root: string, long: boolean): void {
  const w = (p: string, data: string | Buffer, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), data);
    fs.chmodSync(path.join(root, p), mode);
  };
  w('hello.txt', 'hello, world\n');
  w('empty', '');
  w('bin/tool', Buffer.alloc(70_001, 7), 0o755);
  w('secret', 'x', 0o600);
  w('héllo-ünïcode.txt', 'utf8 name');
  w('a/b/c/deep.txt', 'deep');
  fs.mkdirSync(path.join(root, 'emptydir'));
  fs.chmodSync(path.join(root, 'emptydir'), 0o700);
  fs.symlinkSync('hello.txt', path.join(root, 'link-to-hello'));
  fs.symlinkSync('/abs/elsewhere', path.join(root, 'abs-link'));
  fs.linkSync(path.join(root, 'hello.txt'), path.join(root, 'zz-hardlink'));
  w(MID_FILE, 'mid');
  if (long) {
    w(LONG_FILE, 'long name');
    fs.symlinkSync(LONG_TARGET, path.join(root, 'long-link'));
    fs.linkSync(path.join(root, LONG_FILE), path.join(root, 'zz-hardlink-to-long'));
  }
  // Fixed times (with a fraction pax keeps) so every format can be checked.
  const walk = (dir: string) => {
    for (const n of fs.readdirSync(dir)) {
      const p = path.join(dir, n);
      if (fs.lstatSync(p).isDirectory()) walk(p);
      fs.lutimesSync(p, T, T);
    }
  };
  walk(root);
  fs.utimesSync(root, T, T);
}

interface Expected {
  type: LayerEntry['type'];
  mode: number;
  size: number;
  linkname?: string;
  data?: Buffer;
}

/** What the source tree says, hardlinks named after the first path in sorted order. */
function expectedFrom(root: string): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const firstByIno = new Map<number, string>();
  const walk = (dir: string, rel: string) => {
    for (const n of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(p);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.set(r, { type: 'dir', mode, size: 0 });
        walk(p, r);
      } else if (st.isSymbolicLink()) {
        out.set(r, { type: 'symlink', mode, size: 0, linkname: fs.readlinkSync(p) });
      } else if (st.nlink > 1 && firstByIno.has(st.ino)) {
        out.set(r, { type: 'hardlink', mode, size: 0, linkname: firstByIno.get(st.ino) });
      } else {
        if (st.nlink > 1) firstByIno.set(st.ino, r);
        out.set(r, { type: 'file', mode, size: st.size, data: fs.readFileSync(p) });
      }
    }
  };
  walk(root, '');
  return out;
}

function tarFile(format: string, src: string, gzip = false): Buffer {
  const out = path.join(tmp, `${format}-${path.basename(src)}${gzip ? '.tgz' : '.tar'}`);
  execFileSync('tar', [`--format=${format}`, '--sort=name', gzip ? '-czf' : '-cf', out, '-C', src, '.'], {
    stdio: 'pipe',
  });
  return fs.readFileSync(out);
}

function check(index: LayerIndex, tar: Buffer, src: string, format: string): void {
  const expected = expectedFrom(src);
  const got = new Map(index.entries.map((e) => [e.path, e]));
  expect(index.entries.length).toBe(got.size); // no duplicates
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  // tar -t lists the same names (after './' stripping).
  const listed = execFileSync('tar', ['-tf', path.join(tmp, `${format}-${path.basename(src)}.tar`)], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => l && l !== './')
    .map((l) => l.replace(/^\.\//, '').replace(/\/$/, ''));
  expect(listed.sort()).toEqual([...got.keys()].sort());
  const uid = process.getuid!();
  for (const [p, exp] of expected) {
    const e = got.get(p)!;
    expect({ path: p, type: e.type, mode: e.mode, size: e.size, linkname: e.linkname }).toEqual({
      path: p,
      type: exp.type,
      mode: exp.mode,
      size: exp.size,
      linkname: exp.linkname,
    });
    expect(e.uid).toBe(uid);
    expect(e.mtime).toBe(format === 'pax' ? T * 1000 : Math.floor(T) * 1000);
    if (exp.data) expect(Buffer.from(tar.subarray(e.offset, e.offset + e.size)).equals(exp.data), p).toBe(true);
  }
  expect(index.size).toBe(tar.length);
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
  mkTree(path.join(tmp, 'long'), true);
  mkTree(path.join(tmp, 'short'), false);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('indexLayer over GNU tar archives', () => {
  for (const [format, tree] of [
    ['pax', 'long'],
    ['gnu', 'long'],
    ['ustar', 'short'],
  ] as const) {
    it(`--format=${format} (${tree} names)`, async () => {
      const src = path.join(tmp, tree);
      const tar = tarFile(format, src);
      for (const chunk of [1, 511, 512, 4096, 1 << 20]) {
        if (chunk === 1 && tar.length > 200_000) continue;
        const index = await indexLayer(streamOf(new Uint8Array(tar), chunk));
        check(index, tar, src, format);
      }
    });

    it(`--format=${format} gzip, native and pako`, async () => {
      const src = path.join(tmp, tree);
      const tar = tarFile(format, src);
      const tgz = tarFile(format, src, true);
      const plain = await indexLayer(streamOf(new Uint8Array(tar)));
      for (const usePako of [false, true]) {
        const index = await indexLayer(
          decompressLayer(streamOf(new Uint8Array(tgz), 300), MediaType.OciLayerGzip, { usePako }),
        );
        expect(index).toEqual(plain);
      }
      check(plain, tar, src, format);
    });
  }

  it('sees the long names it was given (the fixture really exceeds ustar)', async () => {
    const tar = tarFile('pax', path.join(tmp, 'long'));
    const index = await indexLayer(streamOf(new Uint8Array(tar)));
    const byPath = new Map(index.entries.map((e) => [e.path, e]));
    expect(LONG_FILE.length).toBeGreaterThan(255);
    expect(byPath.get(LONG_FILE)?.type).toBe('file');
    expect(byPath.get('long-link')?.linkname).toBe(LONG_TARGET);
    expect(byPath.get('zz-hardlink-to-long')).toMatchObject({ type: 'hardlink', linkname: LONG_FILE });
    expect(byPath.get('héllo-ünïcode.txt')?.type).toBe('file');
  });
});
