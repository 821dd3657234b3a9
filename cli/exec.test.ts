// `berth exec` end to end: spawns `node bin/berth.js exec` on the WASI fixtures.
import { spawn, spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/berth.js');
const fixture = (name: string) => join(ROOT, 'tests/fixtures/wasi', `${name}.wasm`);
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-exec-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function berth(args: string[], input?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [BIN, 'exec', ...args], { input: input ?? '', cwd: ROOT, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('berth exec', { timeout: 30_000 }, () => {
  it('pipes stdin through to stdout byte for byte', () => {
    const input = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    const r = berth([fixture('echo')], input);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, Buffer.from(input))).toBe(0);
    expect(r.stderr).toBe(`bytes=${input.length}\n`);
  });

  it('streams: each line comes back before the next is sent', async () => {
    const child = spawn(process.execPath, [BIN, 'exec', fixture('echo')], { cwd: ROOT });
    let got = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (got.includes(text)) {
            child.stdout.off('data', onData);
            resolve();
          }
        };
        const onData = (c: Buffer) => {
          got += c.toString();
          check();
        };
        child.stdout.on('data', onData);
        check();
      });
    for (const line of ['one\n', 'two\n', 'three\n']) {
      child.stdin.write(line);
      await waitFor(line); // would hang (and time out) if stdin or stdout were buffered to the end
    }
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(got).toBe('one\ntwo\nthree\n');
  });

  it('fails the program write with EPIPE once the reader of stdout is gone', async () => {
    const child = spawn(process.execPath, [BIN, 'exec', fixture('echo')], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout.once('data', () => child.stdout.destroy());
    child.stdin.on('error', () => {}); // the program may stop reading before all of stdin is written
    child.stdin.end(new Uint8Array(4 << 20));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2); // echo.c returns 2 when write() fails; output dropped silently would be 0
    expect(stderr).toBe('');
  });

  it('passes the exit code through', () => {
    expect(berth([fixture('exit-code'), '42']).code).toBe(42);
    expect(berth([fixture('exit-code'), '--', 'return']).code).toBe(7);
    expect(berth([fixture('exit-code'), '0']).code).toBe(0);
  });

  it('reports a trap with the wasm stack and exits 134', () => {
    const r = berth([fixture('exit-code'), 'trap']);
    expect(r.code).toBe(134);
    expect(r.stdout.toString()).toBe('before\n');
    expect(r.stderr).toMatch(/wasm-function\[\d+\]/);
  });

  it('refuses a module that imports what berth does not provide, naming it, before it runs', () => {
    const r = berth([fixture('foreign-import')]);
    expect(r.code).not.toBe(0);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr.toString()).toContain('rb-js-abi-host.rb_abi_lend_object (function)');
    expect(r.stderr.toString()).not.toMatch(/not an object or function/);
  });

  it('runs a wasi:cli/command component over a --dir host directory as the module runs over another', () => {
    const [a, b] = [tempDir(), tempDir()];
    const m = berth(['--dir', `${a}:/`, fixture('file-io')]);
    const c = berth(['--dir', `${b}:/`, join(ROOT, 'tests/fixtures/components/file-io.component.wasm')]);
    expect(m.stdout.toString()).toMatch(/^open=ok\n/);
    expect(readdirSync(a).length).toBeGreaterThan(0);
    expect(c.stderr.toString()).toBe('');
    expect(c.stdout.toString()).toBe(m.stdout.toString());
    expect(c.code).toBe(m.code);
    expect(readdirSync(b).sort()).toEqual(readdirSync(a).sort());
    for (const f of readdirSync(a)) expect(readFileSync(join(b, f))).toEqual(readFileSync(join(a, f)));
  });

  it('says a file that is not wasm is not, and an empty component is no command', () => {
    const dir = tempDir();
    const component = join(dir, 'c.wasm');
    // The preamble of a component (version 0x0d, layer 1) and an empty body: a valid empty component.
    writeFileSync(component, new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]));
    const r = berth([component]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.toString()).toContain('the component exports no wasi:cli/run: it is not a command');
    const text = join(dir, 't.wasm');
    writeFileSync(text, '#!/bin/sh\necho hi\n');
    expect(berth([text]).stderr.toString()).toMatch(/is not a WebAssembly module \(it starts with 23 21 2f 62/);
  });

  it('passes args, -e and --env-file', () => {
    const envFile = join(tempDir(), 'env');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\nA=file\n');
    const r = berth(['--env-file', envFile, '-e', 'A=b=c', fixture('args-env'), '--', 'one', 'two words']);
    expect(r.stdout.toString()).toBe(
      `arg[0]=${fixture('args-env')}\narg[1]=one\narg[2]=two words\nenv FROM_FILE=yes\nenv A=b=c\nHOME=(unset)\n`,
    );
    expect(r.code).toBe(3);
  });

  it('mounts a host directory with --dir HOST:GUEST, and keeps what the program wrote', () => {
    const host = tempDir();
    expect(berth(['--dir', `${host}:/data`, fixture('counter')]).stdout.toString()).toContain('hits=1');
    expect(berth(['--dir', `${host}:/data`, fixture('counter')]).stdout.toString()).toContain('hits=2');
    expect(JSON.parse(readFileSync(join(host, 'counter.json'), 'utf8'))).toEqual({ hits: 2 });
  });

  it('resolves absolute symlinks of a --dir mounted at / inside it, and nothing outside', () => {
    const outside = tempDir();
    const root = join(outside, 'rootfs');
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    mkdirSync(join(root, 'usr/lib'), { recursive: true });
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'usr/bin/dash'), 'dash!');
    writeFileSync(join(root, 'usr/lib/libc.txt'), 'libc!');
    symlinkSync('/usr/bin/dash', join(root, 'bin/sh'));
    symlinkSync('/usr/lib', join(root, 'lib'));
    symlinkSync(outside, join(root, 'escape')); // absolute host path: means rootfs/<that path>
    const r = berth(['--dir', `${root}:/`, fixture('abs-links')]);
    expect(r.stdout.toString()).toContain('/bin/sh: OK dash!\n/lib/libc.txt: OK libc!\n');
    expect(r.stdout.toString()).toContain('/usr/lib/new.txt: OK made\n');
    expect(readFileSync(join(root, 'usr/lib/new.txt'), 'utf8')).toBe('made');
  });

  // Issue 12: tests/fixtures/wasi/held-dir.c holds directory fds under the mount while their paths
  // are swapped for symlinks to a sibling directory, then tries to read, write, create, link and
  // rename its files through them (runtime/vfs/host-dir.test.ts has every answer).
  it('keeps --dir sealed when directories a program holds are swapped for symlinks to outside', async () => {
    const top = tempDir();
    const mnt = join(top, 'mnt');
    const outside = join(top, 'outside');
    mkdirSync(mnt);
    mkdirSync(join(outside, 'b'), { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), 'outside secret');
    writeFileSync(join(outside, 'b/secret.txt'), 'outside b secret');
    const outsideNow = () =>
      ['secret.txt', 'b/secret.txt'].map(
        (p) => `${readFileSync(join(outside, p), 'utf8')} ${lstatSync(join(outside, p)).mtimeMs}`,
      );
    const before = outsideNow();
    // The program swaps its own paths: every answer is Linux's (the held fd of a/b follows the rename).
    const self = berth(['--dir', `${mnt}:/mnt`, fixture('held-dir'), '/mnt', 'self', outside]);
    expect(self.stdout.toString()).toBe(readFileSync(join(ROOT, 'tests/fixtures/wasi/held-dir.expected'), 'utf8'));
    // The host swaps them while the program waits on stdin: every call through the held fds fails.
    rmSync(mnt, { recursive: true });
    mkdirSync(mnt);
    const child = spawn(
      process.execPath,
      [BIN, 'exec', '--dir', `${mnt}:/mnt`, fixture('held-dir'), '/mnt', 'host', '-'],
      {
        cwd: ROOT,
      },
    );
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('ready\n') && !child.stdin.writableEnded) {
        rmdirSync(join(mnt, 'victim'));
        symlinkSync(outside, join(mnt, 'victim'));
        renameSync(join(mnt, 'a'), join(mnt, 'a.old'));
        symlinkSync(outside, join(mnt, 'a'));
        child.stdin.end('go\n');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const lines = out.split('\n').filter((l) => l.startsWith('victim ') || l.startsWith('b '));
    expect(lines.length).toBe(24);
    for (const l of lines) expect(l).toMatch(/: (-1 )?ENOENT$|lists:$/);
    expect(outsideNow()).toEqual(before);
    expect(readdirSync(outside).sort()).toEqual(['b', 'secret.txt']);
    expect(readdirSync(join(outside, 'b'))).toEqual(['secret.txt']);
  });

  it('prints the syscall trace on stderr with --trace', () => {
    const r = berth(['--trace', fixture('exit-code'), '5']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^\[wasi\] fd_write\(1, .*\) = 0$/m);
    expect(r.stderr).toMatch(/^\[wasi\] proc_exit\(5\) = exit 5$/m);
  });

  it('exits 2 on a usage error', () => {
    expect(berth([]).code).toBe(2);
    expect(berth(['--bogus', fixture('echo')]).code).toBe(2);
  });
});
