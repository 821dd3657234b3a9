// `berth run` mounts as docker users write them: -v HOST_DIR:/path binds a host directory (read and
// written in place), :ro makes a mount read-only (EROFS, the host file untouched), a named volume
// keeps its data in the store, and options after the image are the program's. Program:
// examples/hello-web-db (counts hits in /data/counter.json).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { BERTH, berth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const ARGS = fileURLToPath(new URL('../fixtures/wasi/args-env.wasm', import.meta.url));
const FSYNC = fileURLToPath(new URL('../fixtures/wasi/fsync-wait.wasm', import.meta.url));
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe('berth run mounts', { timeout: 60_000 }, () => {
  let store: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-mounts-'));
    store = join(dir, 'store');
    expect((await berth(['pack', HELLO, '-t', 'localhost/t/hello:1', '--dir', '/data', '--store', store])).code).toBe(
      0,
    );
    expect((await berth(['pack', ARGS, '-t', 'localhost/t/args:1', '--store', store])).code).toBe(0);
  });
  const run = (args: string[]) => berth(['run', '--store', store, ...args], { stdin: REQUEST });

  it('binds a host directory read-write: the program writes the host file in place', async () => {
    const host = await mkdtemp(join(dir, 'rw-'));
    expect((await run(['-v', `${host}:/data`, 'localhost/t/hello:1'])).stdout).toContain('hits=1');
    const second = await run(['-v', `${host}:/data`, 'localhost/t/hello:1']);
    expect(second.stdout).toContain('hits=2');
    expect(await readFile(join(host, 'counter.json'), 'utf8')).toContain('"hits": 2');
  });

  it('binds read-only with :ro (and --mount readonly): reads work, writes fail, the host file is untouched', async () => {
    const host = await mkdtemp(join(dir, 'ro-'));
    await writeFile(join(host, 'counter.json'), '{"hits": 41}');
    for (const mount of [
      ['-v', `${host}:/data:ro`],
      ['--mount', `type=bind,source=${host},target=/data,readonly`],
    ]) {
      const r = await run([...mount, 'localhost/t/hello:1']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot save /data/counter.json: Read-only file system');
      expect(await readFile(join(host, 'counter.json'), 'utf8')).toBe('{"hits": 41}');
    }
  });

  it('keeps a named volume in the store, and mounts it read-only with :ro', async () => {
    expect((await run(['-v', 'hits:/data', 'localhost/t/hello:1'])).stdout).toContain('hits=1');
    expect((await run(['-v', 'hits:/data', 'localhost/t/hello:1'])).stdout).toContain('hits=2');
    const ro = await run(['-v', 'hits:/data:ro', 'localhost/t/hello:1']);
    expect(ro.stderr).toContain('Read-only file system');
    expect((await run(['-v', 'hits:/data', 'localhost/t/hello:1'])).stdout).toContain('hits=3');
    // An anonymous volume starts empty and is dropped.
    expect((await run(['-v', '/data', 'localhost/t/hello:1'])).stdout).toContain('hits=1');
  });

  it('keeps what the program fsynced when berth is killed mid-run (Ctrl-C), and nothing it did not sync', async () => {
    expect((await berth(['pack', FSYNC, '-t', 'localhost/t/fsync:1', '--dir', '/data', '--store', store])).code).toBe(
      0,
    );
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const volume = `durable-${signal.toLowerCase()}`;
      const child = spawn(
        process.execPath,
        [BERTH, 'run', '--store', store, '-v', `${volume}:/data`, 'localhost/t/fsync:1'],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => c.toString().includes('synced') && resolve());
        child.on('close', (code) => reject(new Error(`berth ended (${code}) before the program synced`)));
      });
      child.kill(signal);
      await new Promise((r) => child.on('close', r));
      const tar = join(dir, `${volume}.tar`);
      expect((await berth(['volume', 'export', volume, '-o', tar, '--store', store])).code).toBe(0);
      expect(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' })).toBe('synced.txt\n');
      expect(execFileSync('tar', ['-xOf', tar, 'synced.txt'], { encoding: 'utf8' })).toBe('kept after a kill');
    }
  });

  it('gives the options after the image to the program, and refuses --user and --name with reasons', async () => {
    const r = await run(['-e', 'A=1', 'localhost/t/args:1', '--flag', '-e', 'B=2', '-v', 'x:/y']);
    expect(r.stdout).toContain('arg[1]=--flag\narg[2]=-e\narg[3]=B=2\narg[4]=-v\narg[5]=x:/y\n');
    expect(r.stdout).toContain('env A=1\n');
    expect(r.stdout).not.toContain('env B=2');
    const u = await run(['-u', '1000', 'localhost/t/args:1']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('WASI programs run as no user');
    const n = await run(['--name', 'web', 'localhost/t/args:1']);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('berth keeps no containers');
    const ok = await run(['-i', '-t', '--rm', 'localhost/t/args:1']);
    expect(ok.stdout).toContain('arg[0]=');
  });
});
