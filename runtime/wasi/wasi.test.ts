// Runs the C fixtures of tests/fixtures/wasi through the broker over an in-memory tree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type MemDir, MemFile, MemTree } from '../vfs/mem-tree.ts';
import { fixtureModule, runFixture, sandboxTree } from '../../tests/fixtures/wasi/run-fixture.ts';
import { Errno, ProcExit, Wasi } from './index.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function fileText(dir: MemDir, path: string): string {
  let node: unknown = dir;
  for (const part of path.split('/')) node = (node as MemDir).lookup(part);
  if (!(node instanceof MemFile)) throw new Error(`${path} is not a file`);
  return dec.decode(node.contents());
}

function seedFile(dir: MemDir, name: string, text: string): MemFile {
  const f = dir.createFile(name);
  f.write(0, enc.encode(text));
  return f;
}

describe('args, environment, exit codes', () => {
  it('passes argv and the environment', () => {
    const r = runFixture('args-env', { args: ['prog', 'one', 'two words', 'ünï'], env: { HOME: '/home/x', A: 'b=c' } });
    expect(r.stdout).toBe(
      'arg[0]=prog\narg[1]=one\narg[2]=two words\narg[3]=ünï\nenv HOME=/home/x\nenv A=b=c\nHOME=/home/x\n',
    );
    expect(r.code).toBe(4); // main returns argc
  });
  it('works with no args and no env', () => {
    const r = runFixture('args-env', { args: [] });
    expect(r.stdout).toBe('HOME=(unset)\n');
    expect(r.code).toBe(0);
  });
  it('returns the proc_exit code', () => {
    expect(runFixture('exit-code', { args: ['x', '0'] }).code).toBe(0);
    expect(runFixture('exit-code', { args: ['x', '42'] }).code).toBe(42);
    expect(runFixture('exit-code', { args: ['x', '255'] }).code).toBe(255);
    expect(runFixture('exit-code', { args: ['x', 'return'] }).code).toBe(7);
  });
  it('rethrows a trap as a WebAssembly.RuntimeError after the output so far', () => {
    const out: string[] = [];
    const wasi = new Wasi({ args: ['x', 'trap'], stdout: (c) => out.push(dec.decode(c)) });
    const inst = new WebAssembly.Instance(fixtureModule('exit-code'), wasi.imports);
    expect(() => wasi.start(inst)).toThrow(WebAssembly.RuntimeError);
    expect(out.join('')).toBe('before\n');
  });
  it('ProcExit carries the code', () => {
    const e = new ProcExit(3);
    expect(e.code).toBe(3);
    expect(e).toBeInstanceOf(Error);
  });
});

describe('stdio', () => {
  it('echoes 1 MiB of stdin to stdout, byte for byte', () => {
    const input = new Uint8Array(1 << 20);
    for (let i = 0; i < input.length; i++) input[i] = (i * 31 + (i >> 9)) & 0xff;
    const t0 = performance.now();
    const r = runFixture('echo', { stdin: input });
    const ms = performance.now() - t0;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`bytes=${input.length}\n`);
    expect(r.stdoutBytes.length).toBe(input.length);
    expect(Buffer.compare(Buffer.from(r.stdoutBytes), Buffer.from(input))).toBe(0);
    console.log(`echo 1 MiB: ${ms.toFixed(1)} ms`);
  });
  it('reads stdin from a pull source until null, and hands stdout copies', () => {
    const parts = ['hello ', 'pull ', 'source\n'];
    const asked: number[] = [];
    const chunks: Uint8Array[] = [];
    const wasi = new Wasi({
      stdin: (max) => {
        asked.push(max);
        const p = parts.shift();
        return p === undefined ? null : enc.encode(p);
      },
      stdout: (c) => chunks.push(c),
    });
    const inst = new WebAssembly.Instance(fixtureModule('echo'), wasi.imports);
    expect(wasi.start(inst)).toBe(0);
    expect(dec.decode(Buffer.concat(chunks))).toBe('hello pull source\n');
    expect(asked.every((n) => n > 0)).toBe(true);
    // A copy: not a view over guest memory.
    const mem = inst.exports.memory as WebAssembly.Memory;
    expect(chunks.every((c) => c.buffer !== mem.buffer)).toBe(true);
  });
});

describe('files', () => {
  it('creates, writes, reads, seeks, appends and truncates', () => {
    const root = new MemTree().createRoot();
    const r = runFixture('file-io', { preopens: [{ guestPath: '/', dir: root }] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'open=ok',
        'write=11',
        'seek_set=6',
        'read=5 [world]',
        'tell=11',
        'seek_end=6',
        'seek_neg=-1 EINVAL',
        'pwrite=1',
        'pread=5 [Wello]',
        'ftruncate=0',
        'size=5 regular=1',
        'ftruncate_grow=0',
        'size=8',
        'append_write=2',
        'content_len=10 first=[Wello] tail=[!!]',
        'excl: EEXIST',
        'missing: ENOENT',
        'notdir: ENOTDIR',
        'dir_as_dir: ENOTDIR',
        'write_on_rdonly: -1 EBADF',
        'seek_stdout: -1 ESPIPE',
        'after_w=3',
        '',
      ].join('\n'),
    );
    expect(fileText(root, 'f.txt')).toBe('new');
  });
  it('runs the hello-web-db shape with a preopen at "/" and keeps state in the tree', () => {
    const root = new MemTree().createRoot();
    const req = enc.encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const first = runFixture('counter', { stdin: req, preopens: [{ guestPath: '/', dir: root }] });
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`stdin=${req.length} hits=1\n`);
    expect(fileText(root, 'data/counter.json')).toBe('{\n  "hits": 1\n}');
    const second = runFixture('counter', { stdin: req, preopens: [{ guestPath: '/', dir: root }] });
    expect(second.stdout).toBe(`stdin=${req.length} hits=2\n`);
    expect(fileText(root, 'data/counter.json')).toBe('{\n  "hits": 2\n}');
  });
  it('runs the real examples/hello-web-db.wasm', () => {
    const root = new MemTree().createRoot();
    const bytes = readFileSync(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
    const out: Uint8Array[] = [];
    for (const expected of [1, 2]) {
      out.length = 0;
      const wasi = new Wasi({
        args: ['hello-web-db'],
        stdin: enc.encode('GET / HTTP/1.1\r\n\r\n'),
        stdout: (c) => out.push(c),
        preopens: [{ guestPath: '/', dir: root }],
      });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), wasi.imports);
      expect(wasi.start(inst)).toBe(0);
      expect(dec.decode(Buffer.concat(out))).toContain(`hello from wasm, hits=${expected}\n`);
    }
  });
});

describe('directories and links', () => {
  it('gives the errno values Linux gives (tests/fixtures/wasi/fs-ops.expected, from gcc)', () => {
    const root = new MemTree().createRoot();
    const r = runFixture('fs-ops', { preopens: [{ guestPath: '/', dir: root }] });
    const expected = readFileSync(new URL('../../tests/fixtures/wasi/fs-ops.expected', import.meta.url), 'utf8');
    expect(r.stdout.split('\n')).toEqual(expected.split('\n'));
    expect(r.code).toBe(0);
    // The resulting tree.
    expect([...root.entries()].map(([n, node]) => `${n}:${node.kind}`).sort()).toEqual(
      ['d:dir', 'e:dir', 'g:file', 'loop1:symlink', 'loop2:symlink', 'lt:symlink', 'dlink:symlink'].sort(),
    );
    expect(fileText(root, 'g')).toBe('second');
  });
  it('lists 2,000 entries with a tiny readdir buffer, resuming by cookie', () => {
    const root = new MemTree().createRoot();
    const t0 = performance.now();
    const r = runFixture('readdir-big', { args: ['x', '2000', '40'], preopens: [{ guestPath: '/', dir: root }] });
    const ms = performance.now() - t0;
    expect(r.stdout).toBe('raw: entries=2000 dot=1 dotdot=1 bad_ino=0 multi_call=1\nreaddir(3): 2002\n');
    expect((root.lookup('big') as MemDir).size).toBe(2000);
    console.log(`readdir 2000 entries (create + 2 listings): ${ms.toFixed(1)} ms`);
  });
  it('works with a buffer smaller than one dirent (every entry truncated first)', () => {
    const root = new MemTree().createRoot();
    const r = runFixture('readdir-big', { args: ['x', '50', '8'], preopens: [{ guestPath: '/', dir: root }] });
    expect(r.stdout).toBe('raw: entries=50 dot=1 dotdot=1 bad_ino=0 multi_call=1\nreaddir(3): 52\n');
  });
});

describe('sandbox', () => {
  it('refuses every escape', () => {
    const { outside, root } = sandboxTree();
    const r = runFixture('sandbox', { preopens: [{ guestPath: '/', dir: root }] });
    const lines = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(': ') as [string, string]),
    );
    const { NOTCAPABLE, LOOP, NOENT, INVAL, ILSEQ, SUCCESS, NOTSOCK, BADF, SPIPE, NOSYS } = Errno;
    expect(lines).toEqual({
      dotdot: `${NOTCAPABLE}`,
      'sub/../../': `${NOTCAPABLE}`,
      'sub/.. ok': `${SUCCESS}`,
      absolute: `${NOTCAPABLE}`,
      'absolute root': `${NOTCAPABLE}`,
      'symlink to ..': `${NOTCAPABLE}`,
      'symlink to .. last': `${NOTCAPABLE}`,
      'symlink to abs': `${NOTCAPABLE}`,
      'symlink to abs nofollow': `${LOOP}`,
      'symlink mid to sub ok': `${SUCCESS}`,
      'symlink mid escaping': `${NOTCAPABLE}`,
      loop: `${LOOP}`,
      'self loop': `${LOOP}`,
      dangling: `${NOENT}`,
      empty: `${NOENT}`,
      nul: `${INVAL}`,
      'bad utf8': `${ILSEQ}`,
      'mkdir ../x': `${NOTCAPABLE}`,
      'symlink create ../../etc': `${SUCCESS}`,
      'follow made': `${NOTCAPABLE}`,
      'rename out': `${NOTCAPABLE}`,
      'link from outside': `${NOTCAPABLE}`,
      'stat up follow': `${NOTCAPABLE}`,
      'stat up nofollow': `${SUCCESS} type=7`,
      'open sub': `${SUCCESS}`,
      'sub ../secret.txt': `${NOTCAPABLE}`,
      'write without right': `${NOTCAPABLE}`,
      'bad fd': `${BADF}`,
      'seek stdin': `${SPIPE}`,
      'prestat fd 0': `${BADF}`,
      'stdout filetype': '2',
      proc_raise: `${NOSYS}`,
      'sock_accept stdin': `${NOTSOCK}`,
      'sock_shutdown badfd': `${BADF}`,
    });
    // Nothing outside the jail changed.
    expect([...outside.entries()].map(([n]) => n).sort()).toEqual(['jail', 'secret.txt']);
    expect(fileText(outside, 'secret.txt')).toBe('outside secret');
    expect(fileText(root, 'sub/inner.txt')).toBe('inner');
  });
  it('turns every mutation under a read-only preopen into EROFS, reads still work', () => {
    const root = new MemTree().createRoot();
    seedFile(root, 'ro.txt', 'read me');
    root.createDir('dir');
    const r = runFixture('rofs', { preopens: [{ guestPath: '/', dir: root, readonly: true }] });
    expect(r.stdout).toBe(
      [
        'read: read me',
        'fopen w: -1 EROFS',
        'open creat: -1 EROFS',
        'open rdwr: -1 EROFS',
        'mkdir: -1 EROFS',
        'mkdir existing: -1 EEXIST',
        'rmdir: -1 EROFS',
        'unlink: -1 EROFS',
        'rename: -1 EROFS',
        'symlink: -1 EROFS',
        'link: -1 EROFS',
        'utimes: -1 EROFS',
        'truncate: -1 EROFS',
        '',
      ].join('\n'),
    );
    expect([...root.entries()].map(([n]) => n).sort()).toEqual(['dir', 'ro.txt']);
    expect(fileText(root, 'ro.txt')).toBe('read me');
  });
});

describe('clocks, poll and random', () => {
  it('sleeps, polls and fills random bytes', () => {
    const r = runFixture('clock-random');
    const out = r.stdout;
    expect(out).toContain('realtime_after_2020=1\n');
    const slept = Number(/slept_ms=(\d+)/.exec(out)![1]);
    expect(slept).toBeGreaterThanOrEqual(30);
    expect(slept).toBeLessThan(500);
    const m = /abs_rc=(\d+) abs_slept_ms=(\d+)/.exec(out)!;
    expect(m[1]).toBe('0');
    expect(Number(m[2])).toBeGreaterThanOrEqual(19);
    expect(Number(m[2])).toBeLessThan(500);
    expect(out).toContain('past_ms=0\n');
    expect(out).toContain('res_rc=0 res_pos=1\n');
    expect(out).toContain(`bad_clock=${Errno.INVAL}\n`);
    expect(out).toContain('cputime_rc=0\n');
    expect(out).toContain('poll rc=0 nev=1 first=22 type=2 err=0 fast=1\n');
    expect(out).toContain('random_rc=0\n');
    expect(out).toContain('random_differs=1 few_zeros=1 big_tail_nonzero=1\n');
  });
  it('uses the injected clocks and random source', () => {
    let fills = 0;
    const r = runFixture('clock-random', {
      now: () => 1_000_000_000n, // 1970: the fixture reports it as before 2020
      randomFill: (b) => {
        fills++;
        b.fill(7);
      },
    });
    expect(r.stdout).toContain('realtime_after_2020=0\n');
    expect(fills).toBeGreaterThan(0);
    expect(r.stdout).toContain('random_differs=0');
  });
});

describe('trace', () => {
  it('logs each syscall with decoded paths and the errno', () => {
    const root = new MemTree().createRoot();
    const r = runFixture('counter', { withTrace: true, preopens: [{ guestPath: '/', dir: root }] });
    expect(r.code).toBe(0);
    expect(r.trace).toContain(`path_create_directory(3, "data") = 0`);
    expect(r.trace.some((l) => /^path_open\(3, \d+, "data\/counter.json", .*\) = 44$/.test(l))).toBe(true);
    expect(r.trace.some((l) => /^path_open\(3, \d+, "data\/counter.json", .*\) = 0$/.test(l))).toBe(true);
  });
});
