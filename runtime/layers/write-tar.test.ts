// writeTar's output must be byte-for-byte deterministic, and GNU tar must extract it as written.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamOf } from '../../tests/suites/layer-helpers.ts';
import { indexLayer } from './index-layer.ts';
import { writeTar, type TarWriteEntry } from './write-tar.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-wt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const enc = new TextEncoder();
const longDir = 'L'.repeat(130);
const longName = `${longDir}/${'n'.repeat(200)}`;
const longTarget = 'T'.repeat(300);
const entries: TarWriteEntry[] = [
  { path: 'app', type: 'dir', mode: 0o755, mtime: 1_700_000_000_000 },
  {
    path: 'app/main.wasm',
    type: 'file',
    mode: 0o755,
    mtime: 1_700_000_000_000,
    data: new Uint8Array(1000).map((_, i) => i & 0xff),
  },
  { path: '/app/abs-start', type: 'file', data: enc.encode('abs') },
  { path: 'app/ünï', type: 'file', data: enc.encode('unicode') },
  { path: 'app/link', type: 'symlink', linkname: 'main.wasm' },
  { path: longDir, type: 'dir' },
  { path: longName, type: 'file', data: enc.encode('long'), mtime: 1_700_000_000_250 },
  { path: 'longlink', type: 'symlink', linkname: longTarget },
  { path: 'empty', type: 'file' },
];

describe('writeTar', () => {
  it('is deterministic', () => {
    const a = writeTar(entries);
    const b = writeTar(structuredClone(entries));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length % 512).toBe(0);
  });

  it('is extracted by GNU tar exactly as written', () => {
    const tarPath = path.join(tmp, 'w.tar');
    fs.writeFileSync(tarPath, writeTar(entries));
    const out = path.join(tmp, 'x');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', tarPath, '-C', out], { stdio: 'pipe' });
    expect(fs.readFileSync(path.join(out, 'app/main.wasm')).equals(Buffer.from(entries[1].data!))).toBe(true);
    expect(fs.statSync(path.join(out, 'app/main.wasm')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(out, 'app/main.wasm')).mtimeMs).toBe(1_700_000_000_000);
    expect(fs.readFileSync(path.join(out, 'app/abs-start'), 'utf8')).toBe('abs');
    expect(fs.readFileSync(path.join(out, 'app/ünï'), 'utf8')).toBe('unicode');
    expect(fs.readlinkSync(path.join(out, 'app/link'))).toBe('main.wasm');
    expect(fs.readFileSync(path.join(out, longName), 'utf8')).toBe('long');
    expect(fs.statSync(path.join(out, longName)).mtimeMs).toBe(1_700_000_000_250);
    expect(fs.readlinkSync(path.join(out, 'longlink'))).toBe(longTarget);
    expect(fs.statSync(path.join(out, 'empty')).size).toBe(0);
    const listed = execFileSync('tar', ['-tf', tarPath], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual([
      'app/',
      'app/main.wasm',
      'app/abs-start',
      'app/ünï',
      'app/link',
      `${longDir}/`,
      longName,
      'longlink',
      'empty',
    ]);
  });

  it('reads back through indexLayer', async () => {
    const tar = writeTar(entries);
    const index = await indexLayer(streamOf(tar, 333));
    expect(index.entries.map((e) => [e.path, e.type, e.linkname])).toEqual([
      ['app', 'dir', undefined],
      ['app/main.wasm', 'file', undefined],
      ['app/abs-start', 'file', undefined],
      ['app/ünï', 'file', undefined],
      ['app/link', 'symlink', 'main.wasm'],
      [longDir, 'dir', undefined],
      [longName, 'file', undefined],
      ['longlink', 'symlink', longTarget],
      ['empty', 'file', undefined],
    ]);
    const wasm = index.entries[1];
    expect(Buffer.from(tar.subarray(wasm.offset, wasm.offset + wasm.size)).equals(Buffer.from(entries[1].data!))).toBe(
      true,
    );
    expect(index.entries[6].mtime).toBe(1_700_000_000_250);
  });

  it("refuses '..' escapes and the root", () => {
    expect(() => writeTar([{ path: '../x', type: 'file' }])).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() => writeTar([{ path: '/', type: 'dir' }])).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});
