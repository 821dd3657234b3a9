// The host-directory backend: the C fixtures run over a temp host directory must answer exactly
// what they answer over the in-memory tree (runtime/wasi/host-dir-sandbox.test.ts checks host
// symlinks to outside directories against the resolver itself).
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FsDir } from '../core/index.ts';
import { runFixture } from '../../tests/fixtures/wasi/run-fixture.ts';
import { HostDir } from './host-dir.ts';
import { MemTree } from './mem-tree.ts';

const enc = new TextEncoder();
const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-host-dir-'));
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

// The tree of the sandbox test in runtime/wasi/wasi.test.ts, built through the FsDir contract.
function seedSandbox(root: FsDir): void {
  root.createFile('secret.txt').write(0, enc.encode('inside'));
  const sub = root.createDir('sub');
  sub.createFile('inner.txt').write(0, enc.encode('inner'));
  root.createSymlink('up', '..');
  root.createSymlink('abs', '/etc/passwd');
  root.createSymlink('tosub', 'sub');
  sub.createSymlink('esc', '../..');
  root.createSymlink('loopa', 'loopb');
  root.createSymlink('loopb', 'loopa');
  root.createSymlink('self', 'self');
  root.createSymlink('dangling', 'nothing-here');
}

describe('HostDir', () => {
  it('answers fs-ops as Linux and the in-memory tree do, and leaves the same tree', () => {
    const host = tempDir();
    const r = runFixture('fs-ops', { preopens: [{ guestPath: '/', dir: HostDir.open(host) }] });
    const mem = runFixture('fs-ops', { preopens: [{ guestPath: '/', dir: new MemTree().createRoot() }] });
    const expected = readFileSync(new URL('../../tests/fixtures/wasi/fs-ops.expected', import.meta.url), 'utf8');
    expect(r.stdout.split('\n')).toEqual(expected.split('\n'));
    expect(r.stdout).toBe(mem.stdout);
    expect(readdirSync(host).sort()).toEqual(['d', 'dlink', 'e', 'g', 'loop1', 'loop2', 'lt']);
    expect(readFileSync(join(host, 'g'), 'utf8')).toBe('second');
  });

  it('does file I/O as the in-memory tree does', () => {
    const r = runFixture('file-io', { preopens: [{ guestPath: '/', dir: HostDir.open(tempDir()) }] });
    const mem = runFixture('file-io', { preopens: [{ guestPath: '/', dir: new MemTree().createRoot() }] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(mem.stdout);
  });

  it('refuses every escape of the sandbox fixture, as over memory', () => {
    const outside = tempDir();
    writeFileSync(join(outside, 'secret.txt'), 'outside secret');
    const jail = join(outside, 'jail');
    mkdirSync(jail);
    seedSandbox(HostDir.open(jail));
    const memRoot = new MemTree().createRoot();
    seedSandbox(memRoot);
    const r = runFixture('sandbox', { preopens: [{ guestPath: '/', dir: HostDir.open(jail) }] });
    const mem = runFixture('sandbox', { preopens: [{ guestPath: '/', dir: memRoot }] });
    expect(r.stdout).toBe(mem.stdout);
    expect(r.stdout).toContain('symlink to abs: 76\n'); // NOTCAPABLE (vfs may not import wasi's Errno)
    expect(readdirSync(outside).sort()).toEqual(['jail', 'secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('outside secret');
    // The symlink the guest made ("made" -> ../../etc) exists on the host but led nowhere.
    expect(lstatSync(join(jail, 'made')).isSymbolicLink()).toBe(true);
  });

  it('lists 2,000 entries with a tiny readdir buffer, as over memory', () => {
    const host = tempDir();
    const r = runFixture('readdir-big', {
      args: ['x', '2000', '40'],
      preopens: [{ guestPath: '/', dir: HostDir.open(host) }],
    });
    expect(r.stdout).toBe('raw: entries=2000 dot=1 dotdot=1 bad_ino=0 multi_call=1\nreaddir(3): 2002\n');
    expect(readdirSync(join(host, 'big')).length).toBe(2000);
  });

  it('maps host errors to FsError codes and refuses cross-mount links', () => {
    const a = HostDir.open(tempDir());
    const b = HostDir.open(tempDir());
    const f = a.createFile('f');
    expect(() => a.createFile('f')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => a.rmdir('f')).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => a.unlink('missing')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    a.createDir('d');
    expect(() => a.unlink('d')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    expect(() => b.link('x', f)).toThrow(expect.objectContaining({ code: 'EXDEV' }));
    expect(() => a.rename('f', b, 'g')).toThrow(expect.objectContaining({ code: 'EXDEV' }));
    expect(() => HostDir.open(join(tempDir(), 'nope'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('keeps an open file usable after a rename and bounds the host fds it holds', () => {
    const host = tempDir();
    const root = HostDir.open(host);
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const f = root.createFile('a');
    f.write(0, enc.encode('abc'));
    root.rename('a', root, 'b');
    f.write(3, enc.encode('d'));
    expect(readFileSync(join(host, 'b'), 'utf8')).toBe('abcd');
    const files = Array.from({ length: 300 }, (_, i) => root.createFile(`f${i}`));
    files.forEach((x, i) => x.write(0, enc.encode(String(i))));
    const buf = new Uint8Array(8);
    expect(files[0]!.read(0, buf)).toBe(1); // reopened by path after being released
    expect(readdirSync('/proc/self/fd').length - fdsBefore).toBeLessThanOrEqual(128);
  });
});
