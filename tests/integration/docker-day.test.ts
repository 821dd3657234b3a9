// A Docker user's day with berth, on real parts (a local docker-registry with htpasswd, podman,
// skopeo, GNU tar): credentials from ~/.docker/config.json, pack with two tags and labels, push,
// rmi by short ID, pull by digest, inspect and history, run with a host directory (read-only and
// read-write) and a named volume, Ctrl-C after an fsync, volume export against tar's listing,
// run -p answering a client, service create + serve + logs, a two-image save podman loads,
// save | load through a pipe, and system df before and after system prune.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { BERTH, berth, listeningBerth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const FSYNC = fileURLToPath(new URL('../fixtures/wasi/fsync-wait.wasm', import.meta.url));
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe("a Docker user's day", { timeout: 120_000 }, () => {
  let reg: TestRegistry;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let store: string;
  const children: ChildProcess[] = [];
  const b = (args: string[], stdin?: string) => berth(args, { env, ...(stdin === undefined ? {} : { stdin }) });
  const s = (args: string[], stdin?: string) => b([...args, '--store', store], stdin);

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    dir = await mkdtemp(join(tmpdir(), 'berth-day-'));
    store = join(dir, 'store');
    // Logged in the way docker leaves it: auths in config.json.
    const config = join(dir, 'docker');
    await mkdir(config);
    await writeFile(
      join(config, 'config.json'),
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }),
    );
    env = { DOCKER_CONFIG: config };
  }, 60_000);
  afterAll(async () => {
    for (const c of children) c.kill();
    await reg?.stop();
  });

  it('walks the day', async () => {
    const app = `${reg.host}/day/app`;
    // Pack with two tags and labels; push both with the credentials config.json holds.
    const pack = await s([
      'pack',
      HELLO,
      '-t',
      `${app}:1`,
      '-t',
      `${app}:latest`,
      '--dir',
      '/data',
      '--label',
      'team=wasm',
    ]);
    expect(pack.code, pack.stderr).toBe(0);
    const digest = pack.stdout.split('\n')[0].split(' ')[1];
    for (const tag of ['1', 'latest']) expect((await s(['push', `${app}:${tag}`])).code).toBe(0);
    expect(
      JSON.parse(
        execFileSync('skopeo', ['inspect', '--tls-verify=false', '--creds', 'alice:s3cret', `docker://${app}:1`], {
          encoding: 'utf8',
        }),
      ).Labels,
    ).toEqual({ team: 'wasm' });

    // rmi by short ID (two tags: -f), then pull back by digest.
    const id = (await s(['images', '-q'])).stdout.trim();
    expect(id).toBe(digest.slice(7, 19));
    expect((await s(['rmi', '-f', id])).stdout).toContain(`deleted: ${digest}`);
    const pulled = await s(['pull', '-q', `${app}@${digest}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const [info] = JSON.parse((await s(['inspect', digest.slice(7, 15)])).stdout);
    expect(info).toMatchObject({ Id: digest, Config: { Labels: { team: 'wasm' } } });
    expect((await s(['history', digest.slice(7, 15)])).stdout).toMatch(/berth pack/);
    // Pulled by digest, it is named by digest; tagged again as a docker user would.
    expect(info.RepoTags).toEqual([`${app}@${digest}`]);
    const ref = `${app}:1`;
    expect((await s(['tag', digest.slice(7, 15), ref])).code).toBe(0);

    // A host directory read-write, then read-only; a named volume.
    const host = join(dir, 'host-data');
    await mkdir(host);
    const run = (mount: string[]) => b(['run', '--store', store, ...mount, ref], REQUEST);
    expect((await run(['-v', `${host}:/data`])).stdout).toContain('hits=1');
    expect(await readFile(join(host, 'counter.json'), 'utf8')).toContain('"hits": 1');
    const ro = await run(['-v', `${host}:/data:ro`]);
    expect(ro.stderr).toContain('Read-only file system');
    expect(await readFile(join(host, 'counter.json'), 'utf8')).toContain('"hits": 1');
    expect((await run(['-v', 'day-hits:/data'])).stdout).toContain('hits=1');
    expect((await run(['-v', 'day-hits:/data'])).stdout).toContain('hits=2');

    // Ctrl-C after an fsync keeps the synced write.
    expect((await s(['pack', FSYNC, '-t', 'localhost/day/fsync:1', '--dir', '/data'])).code).toBe(0);
    const child = spawn(
      process.execPath,
      [BERTH, 'run', '--store', store, '-v', 'synced:/data', 'localhost/day/fsync:1'],
      { env: { ...process.env, ...env } },
    );
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (c: Buffer) => c.toString().includes('synced') && resolve()),
    );
    child.kill('SIGINT');
    await new Promise((r) => child.on('close', r));
    const tar = join(dir, 'synced.tar');
    expect((await s(['volume', 'export', 'synced', '-o', tar])).code).toBe(0);
    expect(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' })).toBe('synced.txt\n');
    const hitsTar = join(dir, 'hits.tar');
    await s(['volume', 'export', 'day-hits', '-o', hitsTar]);
    expect(execFileSync('tar', ['-tf', hitsTar], { encoding: 'utf8' })).toBe('counter.json\n');

    // run -p answers a client; a service through berth serve, and its logs.
    const published = await listeningBerth(['run', '--store', store, '-p', '0', '-v', 'day-p:/data', ref], {
      ...process.env,
      ...env,
    });
    children.push(published.child);
    expect(await (await fetch(published.url)).text()).toBe('hello from wasm, hits=1\n');
    // A page of another site that rebinds its DNS name to this address gets nothing, and its
    // request never runs the program (the volume's count stays at 1).
    const rebound = await new Promise<{ status?: number; body: string }>((done, fail) => {
      const u = new URL(published.url);
      const req = request(
        { host: u.hostname, port: u.port, path: '/', headers: { Host: `rebound.evil.example:${u.port}` } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => done({ status: res.statusCode, body }));
        },
      );
      req.on('error', fail);
      req.end();
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/could be rebound/);
    expect(await (await fetch(published.url)).text()).toBe('hello from wasm, hits=2\n');
    expect((await b(['run', '--store', store, '--server-name', 'x', ref])).stderr).toMatch(/--server-name .* needs -p/);
    expect((await s(['service', 'create', 'day', ref, '-v', 'day-hits:/data'])).code).toBe(0);
    const dist = join(dir, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'index.html'), '<!doctype html>');
    const served = await listeningBerth(['serve', '--port', '0', '--dist', dist, '--store', store], {
      ...process.env,
      ...env,
    });
    children.push(served.child);
    expect(await (await fetch(`${served.url}svc/day/`)).text()).toBe('hello from wasm, hits=3\n');
    expect((await s(['logs', 'day'])).stdout).toMatch(/GET \/svc\/day\/ 200 \d+ms node exit=0/);

    // A two-image docker-archive podman loads; save | load through a pipe.
    const two = join(dir, 'two.tar');
    expect((await s(['save', '--format', 'docker-archive', '-o', two, ref, 'localhost/day/fsync:1'])).code).toBe(0);
    const podman = execFileSync(
      'podman',
      [
        '--root',
        join(dir, 'podman-root'),
        '--runroot',
        join(dir, 'podman-run'),
        '--storage-driver',
        'vfs',
        'load',
        '-i',
        two,
      ],
      { encoding: 'utf8' },
    );
    expect(podman).toContain(`Loaded image: ${ref}`);
    expect(podman).toContain('Loaded image: localhost/day/fsync:1');
    const other = join(dir, 'other-store');
    const piped = execFileSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${BERTH}" save ${ref} --store "${store}" | "${process.execPath}" "${BERTH}" load --store "${other}"`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      },
    );
    expect(piped).toContain(`loaded ${ref}`);

    // system df before and after system prune (a removed image leaves blobs another image does not need).
    const before = (await s(['system', 'df'])).stdout;
    expect(before).toMatch(/^Images +2 +1 /m); // two images, one a service runs
    await s(['service', 'rm', 'day']);
    expect((await s(['rmi', 'localhost/day/fsync:1'])).code).toBe(0);
    const pruned = await s(['system', 'prune']);
    expect(pruned.code).toBe(0);
    expect((await s(['image', 'prune'])).stdout).toBe('freed 0B in 0 blobs\n');
    expect((await s(['system', 'df'])).stdout).toMatch(/^Images +1 +0 +[\d.]+kB +0B/m);
  });
});
