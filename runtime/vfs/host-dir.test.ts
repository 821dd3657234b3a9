// The host-directory backend: the C fixtures run over a temp host directory must answer exactly
// what they answer over the in-memory tree (runtime/wasi/host-dir-sandbox.test.ts checks host
// symlinks to outside directories against the resolver itself).
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FsFile } from '../core/index.ts';
import { runFixture, seedSandbox } from '../../tests/fixtures/wasi/run-fixture.ts';
import { fsSuite } from '../../tests/suites/fs-suite.ts';
import { HostDir } from './host-dir.ts';
import { MemTree } from './mem-tree.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const openFds = () => readdirSync('/proc/self/fd').length;
const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-host-dir-'));
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});
const expectedOf = (name: string) =>
  readFileSync(new URL(`../../tests/fixtures/wasi/${name}.expected`, import.meta.url), 'utf8');

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

  it('keeps an open file on its inode through rename and unlink, and closes its host fd', () => {
    const host = tempDir();
    const root = HostDir.open(host);
    const fdsBefore = openFds();
    root.createFile('a').write(0, enc.encode('abc'));
    const f = (root.lookup('a') as FsFile).open!(true);
    root.rename('a', root, 'b');
    f.write(3, enc.encode('d'));
    expect(readFileSync(join(host, 'b'), 'utf8')).toBe('abcd');
    root.unlink('b');
    expect(f.stat().nlink).toBe(0n);
    const buf = new Uint8Array(8);
    expect(dec.decode(buf.subarray(0, f.read(0, buf)))).toBe('abcd');
    expect(openFds()).toBe(fdsBefore + 1);
    f.close();
    expect(openFds()).toBe(fdsBefore);
    expect(() => f.read(0, buf)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    // A read-only host file opened for writing: reads work, the write is refused.
    writeFileSync(join(host, 'ro'), 'ro');
    chmodSync(join(host, 'ro'), 0o444);
    if (process.getuid?.() !== 0) {
      const ro = (root.lookup('ro') as FsFile).open!(true);
      expect(ro.read(0, buf)).toBe(2);
      expect(() => ro.write(0, enc.encode('x'))).toThrow(expect.objectContaining({ code: 'EACCES' }));
      ro.close();
    }
  });

  it('closes the host fds a program leaves open when it ends', () => {
    const fdsBefore = openFds();
    runFixture('fs-ops', { preopens: [{ guestPath: '/', dir: HostDir.open(tempDir()) }] });
    runFixture('open-files', { preopens: [{ guestPath: '/', dir: HostDir.open(tempDir()) }] });
    expect(openFds()).toBe(fdsBefore);
  });
});

fsSuite('HostDir', () => HostDir.open(tempDir()));

// Issue 12: a directory fd held while its path is swapped for a symlink to outside the mount.
// tests/fixtures/wasi/held-dir.c tries to read, overwrite, create, stamp, link and rename out,
// unlink and list through the held fds; held-dir.expected is what Linux answers.
describe('HostDir: held directory fds (held-dir.c)', () => {
  /** top/mnt (the mount) beside top/outside, holding what an escape would reach, with old times. */
  function layout(): { mnt: string; outside: string } {
    const top = tempDir();
    const mnt = join(top, 'mnt');
    const outside = join(top, 'outside');
    mkdirSync(mnt);
    mkdirSync(join(outside, 'b'), { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), 'outside secret');
    writeFileSync(join(outside, 'b/secret.txt'), 'outside b secret');
    for (const p of ['secret.txt', 'b/secret.txt', 'b', '.']) utimesSync(join(outside, p), 1_000_000, 1_000_000);
    return { mnt, outside };
  }
  /** Every entry under `dir` with its kind, content and mtime: any change outside shows. */
  function snapshot(dir: string, rel = ''): string[] {
    const st = lstatSync(join(dir, rel), { bigint: true });
    const here = `${rel || '.'} ${st.mtimeNs}`;
    if (!st.isDirectory()) return [`${here} ${readFileSync(join(dir, rel), 'utf8')}`];
    return [here, ...readdirSync(join(dir, rel)).flatMap((n) => snapshot(dir, rel ? `${rel}/${n}` : n))].sort();
  }
  /** What the host does between two calls of the program in "host" mode. */
  function swapFromHost(mnt: string, target: string): void {
    rmdirSync(join(mnt, 'victim'));
    symlinkSync(target, join(mnt, 'victim'));
    renameSync(join(mnt, 'a'), join(mnt, 'a.old'));
    symlinkSync(target, join(mnt, 'a'));
  }

  for (const relative of [true, false]) {
    it(`answers as Linux when the program swaps its own paths (symlink target ${relative ? 'relative' : 'absolute'})`, () => {
      const { mnt, outside } = layout();
      const before = snapshot(outside);
      const target = relative ? '../outside' : outside;
      const r = runFixture('held-dir', {
        args: ['held-dir', '/mnt', 'self', target],
        preopens: [{ guestPath: '/mnt', dir: HostDir.open(mnt) }],
      });
      expect(r.stdout.split('\n')).toEqual(expectedOf('held-dir').split('\n'));
      expect(snapshot(outside)).toEqual(before);
      // The fd held in a/b followed it to a.old/b, inside the mount, as on Linux.
      expect(readdirSync(join(mnt, 'a.old/b')).sort()).toEqual([
        'inside.txt',
        'planted-dir',
        'planted-link',
        'planted.txt',
      ]);
      expect(readdirSync(mnt).sort()).toEqual(['a', 'a.old', 'victim']);
    });
  }

  it('refuses every call through a held fd whose path the host swapped between two calls', () => {
    const { mnt, outside } = layout();
    const before = snapshot(outside);
    let asked = false;
    const r = runFixture('held-dir', {
      args: ['held-dir', '/mnt', 'host', '-'],
      preopens: [{ guestPath: '/mnt', dir: HostDir.open(mnt) }],
      stdin: () => {
        if (asked) return null;
        asked = true;
        swapFromHost(mnt, outside);
        return enc.encode('go\n');
      },
    });
    expect(asked).toBe(true);
    const calls = [
      'open secret.txt: ENOENT',
      'open secret.txt for writing: ENOENT',
      'create planted.txt: ENOENT',
      'stat secret.txt: -1 ENOENT',
      'utimens secret.txt: -1 ENOENT',
      'mkdir planted-dir: -1 ENOENT',
      'symlink planted-link: -1 ENOENT',
      'link secret.txt in: -1 ENOENT',
      'rename secret.txt in: -1 ENOENT',
      'unlink secret.txt: -1 ENOENT',
      'open inside.txt: ENOENT',
      'lists:',
    ];
    // victim: what Linux answers too (the directory is gone). b: Linux would follow a.old/b; the
    // mount cannot tell where the host moved it, so it refuses.
    expect(r.stdout).toBe(
      ['held: OK OK OK', 'ready', ...calls.map((c) => `victim ${c}`), ...calls.map((c) => `b ${c}`), ''].join('\n'),
    );
    expect(snapshot(outside)).toEqual(before);
    expect(readdirSync(join(mnt, 'a.old/b'))).toEqual(['inside.txt']);
  });
});

describe('HostDir: open files and directories (open-files.c)', () => {
  it('answers as Linux: open files outlive their names, directories open read-only, absolute symlinks are stored', () => {
    const expected = expectedOf('open-files').split('\n');
    const host = tempDir();
    const r = runFixture('open-files', { preopens: [{ guestPath: '/', dir: HostDir.open(host) }] });
    // Following the absolute symlink is refused under a preopen that does not resolve them.
    expect(r.stdout.split('\n')).toEqual(
      expected.map((l) => l.replace('follow abs: ENOENT', 'follow abs: ENOTCAPABLE')),
    );
    expect(readlinkSync(join(host, 'abs'))).toBe('/nonexistent-berth-dir/target');
    const chroot = runFixture('open-files', {
      preopens: [{ guestPath: '/', dir: HostDir.open(tempDir()), absoluteSymlinks: 'root' }],
    });
    expect(chroot.stdout.split('\n')).toEqual(expected);
  });
});

// From a review by attack: two runs on one host directory. One (here a child process standing in
// for it) swaps a directory and a symlink to outside, in a loop, through its own mount; the other
// opens, creates and removes through `d/`. Each call's walk checked `d`, then its syscall took the
// path again: within seconds a read reached a file outside the mount, and a create made one there.
describe('HostDir: another program swapping a directory for a symlink during calls', () => {
  it('never reads, creates or removes outside the mount', async () => {
    const { spawn } = await import('node:child_process');
    const top = tempDir();
    const mnt = join(top, 'mnt');
    const outside = join(top, 'outside');
    mkdirSync(join(mnt, 'd'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(mnt, 'd', 'secret.txt'), 'inside');
    writeFileSync(join(outside, 'secret.txt'), 'OUTSIDE');
    writeFileSync(join(outside, 'victim.txt'), 'keep me');
    symlinkSync(outside, join(mnt, 'sym'));
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs'); const m = ${JSON.stringify(mnt)};
         const end = Date.now() + 8000;
         while (Date.now() < end) {
           try { fs.renameSync(m + '/d', m + '/dt'); fs.renameSync(m + '/sym', m + '/d');
                 fs.renameSync(m + '/d', m + '/sym'); fs.renameSync(m + '/dt', m + '/d'); } catch {}
         }`,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((r) => swapper.on('exit', r));
    const root = HostDir.open(mnt);
    const seen = new Set<string>();
    try {
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      while (Date.now() - started < 6000) {
        let d: ReturnType<typeof root.lookup>;
        try {
          d = root.lookup('d'); // (under the swap, an FsError is a fair answer)
        } catch {
          continue;
        }
        if (d?.kind !== 'dir') continue;
        for (let i = 0; i < 200; i++) {
          try {
            const f = (d as import('../core/index.ts').FsDir).lookup('secret.txt') as FsFile | undefined;
            if (f?.kind === 'file') {
              const buf = new Uint8Array(16);
              seen.add(dec.decode(buf.subarray(0, f.read(0, buf))));
            }
          } catch {}
          try {
            (d as import('../core/index.ts').FsDir).createFile('planted.txt');
            (d as import('../core/index.ts').FsDir).unlink('planted.txt');
          } catch {}
          try {
            (d as import('../core/index.ts').FsDir).unlink('victim.txt');
          } catch {}
        }
      }
    } finally {
      swapper.kill();
      await exited;
    }
    expect(seen.has('inside')).toBe(true);
    expect(seen.has('OUTSIDE')).toBe(false);
    expect(readdirSync(outside).sort()).toEqual(['secret.txt', 'victim.txt']);
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('keep me');
  }, 30_000);
});

// From a review by attack: a host file whose name is not UTF-8 is listed under a decoded name no
// lookup finds; under a mount, the listing threw (undefined.stat) out of the broker.
describe('HostDir: a host name that is not UTF-8', () => {
  it('is left out of a mounted directory listing, and the rest is listed', async () => {
    const { withMounts } = await import('./with-mounts.ts');
    const dir = tempDir();
    writeFileSync(Buffer.from(`${dir}/\xff`, 'latin1'), 'x');
    writeFileSync(join(dir, 'ok.txt'), 'y');
    const root = withMounts(new MemTree().createRoot(), [{ path: '/data', dir: HostDir.open(dir) }]);
    const data = root.lookup('data') as import('../core/index.ts').FsDir;
    const names = [...data.entries()].map(([n, node]) => [n, node.stat().kind]);
    expect(names).toContainEqual(['ok.txt', 'file']);
  });
});

// From a review by attack: a fifo already in a mounted directory held open(2), and with it the run
// and berth, until some writer came. (In a child process: a blocked open would hold this one too.)
describe('HostDir: a fifo in the directory', () => {
  it('opens at once and reads as empty or fails, never waits', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const script = `
      const { HostDir } = await import(${JSON.stringify(new URL('./host-dir.ts', import.meta.url).href)});
      const f = HostDir.open(${JSON.stringify(dir)}).lookup('pipe');
      let outcome;
      try {
        const h = f.open(false);
        try { outcome = 'read ' + h.read(0, new Uint8Array(4)); } catch (e) { outcome = 'read failed ' + e.code; }
        h.close();
      } catch (e) { outcome = 'open failed ' + e.code; }
      console.log(outcome);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    expect(r.signal, `the open waited: ${r.stderr}`).toBeNull();
    expect(r.stdout).toMatch(/^(read 0|read failed \w+|open failed \w+)\n$/);
  }, 30_000);
});
