// Making and sharing images without Docker: berth pack, save (an OCI layout tar that skopeo reads),
// load (berth's own tars, and docker-archive tars written by skopeo), push to a real registry.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { spawn } from 'node:child_process';
import { BERTH, berth } from './cli.ts';

/** The same tar with the ref.name annotation taken out of its index.json (same length: spaces). */
function stripRefName(tar: Buffer): Buffer {
  const out = Buffer.from(tar);
  const text = out.toString('latin1');
  const at = text.indexOf('"org.opencontainers.image.ref.name"');
  if (at < 0) throw new Error('no ref.name in the tar');
  // The key becomes another of the same length, so every offset and size in the tar still holds.
  const key = '"org.opencontainers.image.ref.name"';
  out.write(`"${'x'.repeat(key.length - 2)}"`, at, 'latin1');
  return out;
}

const exec = promisify(execFile);
const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const tmp = (p: string) => mkdtemp(join(tmpdir(), p));

describe('pack, save, load, push', () => {
  let reg: TestRegistry;
  let work: string;
  let store: string;
  const ref = 'localhost/test/packed:1';

  beforeAll(async () => {
    reg = await startRegistry();
    work = await tmp('berth-archive-');
    store = join(work, 'store');
    await writeFile(join(work, 'motd.txt'), 'welcome\n');
    const packed = await berth([
      'pack',
      HELLO,
      '-t',
      ref,
      '--dir',
      '/data',
      '--add',
      `${join(work, 'motd.txt')}:/etc/motd`,
      '-e',
      'GREETING=hi',
      '--store',
      store,
    ]);
    expect(packed.stderr).toBe('');
    expect(packed.code).toBe(0);
  }, 60_000);
  afterAll(() => reg?.stop());

  it('packs a .wasm into an image that runs, and refuses a file that is not wasm', async () => {
    const list = JSON.parse((await berth(['images', '--json', '--store', store])).stdout) as {
      ref: string;
      platform: string;
    }[];
    expect(list).toEqual([expect.objectContaining({ ref, platform: 'wasi/wasm' })]);
    const run = await berth(['run', '--store', store, ref], { stdin: REQUEST });
    expect(run.stdout).toContain('hello from wasm, hits=1');
    const bad = await berth(['pack', join(work, 'motd.txt'), '-t', 'x:1', '--store', store]);
    expect(bad.code).toBe(125); // berth's own failure
    expect(bad.stderr).toContain('not a valid WebAssembly module');
  });

  it('saves an OCI layout tar that skopeo inspects, and loads it into another store', async () => {
    const tar = join(work, 'image.tar');
    expect((await berth(['save', ref, '-o', tar, '--store', store])).code).toBe(0);
    const { stdout } = await exec('skopeo', ['inspect', `oci-archive:${tar}`]);
    const info = JSON.parse(stdout) as { Architecture: string; Os: string; Env: string[] };
    expect(info).toMatchObject({ Architecture: 'wasm', Os: 'wasi' });
    expect(info.Env).toContain('GREETING=hi');
    const other = join(work, 'store2');
    const loaded = await berth(['load', '-i', tar, '--store', other]);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout).toContain(`loaded ${ref}`);
    const run = await berth(['run', '--store', other, ref], { stdin: REQUEST });
    expect(run.stdout).toContain('hits=1');
  });

  it('saves a tar podman loads, and loads what podman saves', async () => {
    const tar = join(work, 'for-podman.tar');
    expect((await berth(['save', ref, '-o', tar, '--store', store])).code).toBe(0);
    // A private podman store, so the test needs no system configuration.
    const podman = (...args: string[]) =>
      exec('podman', [
        '--root',
        join(work, 'podman-root'),
        '--runroot',
        join(work, 'podman-run'),
        '--storage-driver',
        'vfs',
        ...args,
      ]);
    const loaded = await podman('load', '-i', tar);
    expect(loaded.stdout).toContain(`Loaded image: ${ref}`);
    const [inspect] = JSON.parse((await podman('image', 'inspect', ref)).stdout) as {
      Architecture: string;
      Os: string;
    }[];
    expect(inspect).toMatchObject({ Architecture: 'wasm', Os: 'wasi' });
    const back = join(work, 'from-podman.tar');
    await podman('save', '--format', 'oci-archive', '-o', back, ref);
    const other = join(work, 'store-podman');
    const r = await berth(['load', '-i', back, '--store', other]);
    expect(r.code).toBe(0);
    expect((await berth(['run', '--store', other, ref], { stdin: REQUEST })).stdout).toContain('hits=1');
  });

  it('saves two images as a docker-archive that podman loads whole', async () => {
    const second = 'localhost/test/second:2';
    expect((await berth(['pack', HELLO, '-t', second, '-e', 'N=2', '--store', store])).code).toBe(0);
    const tar = join(work, 'two-docker.tar');
    const saved = await berth(['save', '--format', 'docker-archive', ref, second, '-o', tar, '--store', store]);
    expect(saved.code, saved.stderr).toBe(0);
    const podman = (...args: string[]) =>
      exec('podman', [
        '--root',
        join(work, 'podman2-root'),
        '--runroot',
        join(work, 'podman2-run'),
        '--storage-driver',
        'vfs',
        ...args,
      ]);
    const loaded = await podman('load', '-i', tar);
    expect(loaded.stdout).toContain(`Loaded image: ${ref}`);
    expect(loaded.stdout).toContain(`Loaded image: ${second}`);
    // And berth loads it back, running what it loaded.
    const other = join(work, 'store-docker-archive');
    expect((await berth(['load', '-i', tar, '--store', other])).code).toBe(0);
    expect((await berth(['run', '--store', other, second], { stdin: REQUEST })).stdout).toContain('hits=1');
  });

  it('saves to a pipe and loads from one; names an unnamed image with load --ref', async () => {
    const piped = join(work, 'store-piped');
    const save = spawn(process.execPath, [BERTH, 'save', ref, '--store', store], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const load = spawn(process.execPath, [BERTH, 'load', '--store', piped], { stdio: ['pipe', 'pipe', 'pipe'] });
    save.stdout.pipe(load.stdin);
    let out = '';
    load.stdout.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((r) => load.on('close', r));
    expect(code).toBe(0);
    expect(out).toContain(`loaded ${ref}`);
    // An OCI layout tar whose index entry has no name: --ref names it.
    const tar = await readFile(join(work, 'for-podman.tar'));
    const unnamed = join(work, 'unnamed.tar');
    await writeFile(unnamed, stripRefName(tar));
    const refused = await berth(['load', '-i', unnamed, '--store', join(work, 's-unnamed')]);
    expect(refused.stderr).toContain('no name was given');
    const named = await berth([
      'load',
      '-i',
      unnamed,
      '--ref',
      'localhost/test/named:7',
      '--store',
      join(work, 's-unnamed'),
    ]);
    expect(named.stdout).toContain('loaded localhost/test/named:7');
  });

  it('loads a docker-archive tar written by skopeo', async () => {
    const layout = join(work, 'layout');
    expect((await berth(['pack', HELLO, '-t', 'localhost/test/d:1', '--dir', '/data', '--oci', layout])).code).toBe(0);
    const tar = join(work, 'docker.tar');
    await exec('skopeo', [
      'copy',
      '--quiet',
      `oci:${layout}:localhost/test/d:1`,
      `docker-archive:${tar}:test/from-docker:2`,
    ]);
    const other = join(work, 'store3');
    const loaded = await berth(['load', '-i', tar, '--store', other]);
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout).toContain('loaded docker.io/test/from-docker:2');
    const run = await berth(['run', '--store', other, 'test/from-docker:2'], { stdin: REQUEST });
    expect(run.stdout).toContain('hits=1');
  });

  it('packs a component as a CNCF Wasm artifact (wasip2, its world in the config) that skopeo pushes and berth pulls and runs', async () => {
    const component = fileURLToPath(new URL('../fixtures/components/args-env.component.wasm', import.meta.url));
    const layout = join(work, 'component-artifact');
    const packed = await berth(['pack', component, '-t', 'localhost/test/cmd:1', '--artifact', '--oci', layout]);
    expect(packed.code, packed.stderr).toBe(0);
    const config = JSON.parse(
      (await exec('skopeo', ['inspect', '--config', '--raw', `oci:${layout}:localhost/test/cmd:1`])).stdout,
    );
    expect(config).toMatchObject({ architecture: 'wasm', os: 'wasip2', component: { target: 'wasi:cli/command' } });
    expect(config.component.exports).toContain('wasi:cli/run');
    expect(config.component.imports).toEqual(expect.arrayContaining(['wasi:cli/environment', 'wasi:io/streams']));
    await exec('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${layout}:localhost/test/cmd:1`,
      `docker://${reg.host}/packed/cmd:1`,
    ]);
    const other = join(work, 'store-component-artifact');
    expect((await berth(['pull', `${reg.host}/packed/cmd:1`, '--store', other, '-q'])).code).toBe(0);
    const run = await berth(['run', '--store', other, `${reg.host}/packed/cmd:1`, 'from', 'a registry']);
    expect(run.stdout).toContain('arg[1]=from\narg[2]=a registry\n');
  });

  it('packs a CNCF Wasm artifact that skopeo pushes and berth pulls and runs', async () => {
    const layout = join(work, 'artifact');
    expect((await berth(['pack', HELLO, '-t', 'localhost/test/artifact:1', '--artifact', '--oci', layout])).code).toBe(
      0,
    );
    const raw = JSON.parse(
      (await exec('skopeo', ['inspect', '--raw', `oci:${layout}:localhost/test/artifact:1`])).stdout,
    ) as { config: { mediaType: string }; layers: { mediaType: string }[] };
    expect(raw.config.mediaType).toBe('application/vnd.wasm.config.v0+json');
    expect(raw.layers.map((l) => l.mediaType)).toEqual(['application/wasm']);
    await exec('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${layout}:localhost/test/artifact:1`,
      `docker://${reg.host}/packed/artifact:1`,
    ]);
    const other = join(work, 'store-artifact');
    expect((await berth(['pull', `${reg.host}/packed/artifact:1`, '--store', other, '-q'])).code).toBe(0);
    expect(
      (await berth(['run', '--store', other, `${reg.host}/packed/artifact:1`], { stdin: REQUEST })).stdout,
    ).toContain('hits=1');
    // Packed straight into a store, it runs too.
    expect((await berth(['pack', HELLO, '-t', 'localhost/test/artifact:2', '--artifact', '--store', other])).code).toBe(
      0,
    );
    expect((await berth(['run', '--store', other, 'localhost/test/artifact:2'], { stdin: REQUEST })).stdout).toContain(
      'hits=1',
    );
    const bad = await berth(['pack', HELLO, '-t', 'x:1', '--artifact', '--dir', '/data', '--store', other]);
    expect(bad.code).toBe(2);
  });

  it('packs into an existing OCI layout as skopeo does: other images stay, the same name is replaced', async () => {
    const layout = join(await mkdtemp(join(tmpdir(), 'berth-layout-')), 'l');
    for (const t of ['localhost/test/a:1', 'localhost/test/b:1', 'localhost/test/a:1']) {
      expect((await berth(['pack', HELLO, '-t', t, '--oci', layout])).code).toBe(0);
    }
    const { stdout } = await exec('skopeo', ['inspect', '--raw', `oci:${layout}:localhost/test/b:1`]);
    expect(JSON.parse(stdout).layers).toHaveLength(1);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: { annotations: Record<string, string> }[];
    };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual([
      'localhost/test/b:1',
      'localhost/test/a:1',
    ]);
  });

  it('refuses an archive that is neither format', async () => {
    const junk = join(work, 'junk.tar');
    await exec('tar', ['-cf', junk, '-C', work, 'motd.txt']);
    const r = await berth(['load', '-i', junk, '--store', join(work, 'store4')]);
    expect(r.code).toBe(125); // berth's own failure
    expect(r.stderr).toContain('neither an OCI image layout');
  });

  it('pushes a packed image to a registry, from which it pulls and runs', async () => {
    const target = `${reg.host}/packed/hello:1`;
    expect((await berth(['push', ref, target, '--store', store])).code).toBe(0);
    const other = join(work, 'store5');
    expect((await berth(['pull', target, '--store', other, '-q'])).code).toBe(0);
    const run = await berth(['run', '--store', other, target], { stdin: REQUEST });
    expect(run.stdout).toContain('hits=1');
  });
});
