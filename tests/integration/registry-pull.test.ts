// Pulling from a real registry (Debian's docker-registry) with images pushed by skopeo: OCI and
// Docker v2 images, a multi-platform index, a Wasm artifact; basic and token auth; and faults.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, digestHex } from '../../runtime/core/index.ts';
import { ImageStore, pullImage } from '../../runtime/images/index.ts';
import { parseReference, RegistryClient } from '../../runtime/registry/index.ts';
import { FsContentStore } from '../../runtime/content/fs-content-store.ts';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import { imageLayout, multiPlatformLayout, wasmArtifactLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { berth } from './cli.ts';

const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const tmp = (p: string) => mkdtemp(join(tmpdir(), p));
function fsStore(dir: string) {
  return new ImageStore({ content: new FsContentStore(dir), records: new FsRecords(dir) });
}

describe('pull from docker-registry (no auth)', () => {
  let reg: TestRegistry;
  let bigDigest = '';
  beforeAll(async () => {
    reg = await startRegistry();
    const oci = await tmp('berth-l-');
    await imageLayout(oci, 'x:1');
    await skopeoCopy(`oci:${oci}:x:1`, reg, 'berth/hello:oci', { format: 'oci' });
    await skopeoCopy(`oci:${oci}:x:1`, reg, 'berth/hello:v2', { format: 'v2s2' });
    const multi = await tmp('berth-l-');
    await multiPlatformLayout(multi, 'm:1');
    await skopeoCopy(`oci:${multi}:m:1`, reg, 'berth/multi:1', { all: true });
    const linuxOnly = await tmp('berth-l-');
    await multiPlatformLayout(linuxOnly, 'l:1', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    await skopeoCopy(`oci:${linuxOnly}:l:1`, reg, 'berth/linux-only:1', { all: true });
    const artifact = await tmp('berth-l-');
    await wasmArtifactLayout(artifact, 'a:1');
    await skopeoCopy(`oci:${artifact}:a:1`, reg, 'berth/artifact:1');
    // A bigger image (4 MiB of incompressible data) for the resume and kill tests.
    const big = await tmp('berth-l-');
    const packed = await imageLayout(big, 'b:1', { files: [{ path: '/blob.bin', data: randomBytes(4 << 20) }] });
    bigDigest = packed.manifest.layers[0].digest;
    await skopeoCopy(`oci:${big}:b:1`, reg, 'berth/big:1');
  }, 120_000);
  afterAll(() => reg?.stop());

  it('pulls an OCI image with the CLI, lists it, and runs it', async () => {
    const store = await tmp('berth-store-');
    const ref = `${reg.host}/berth/hello:oci`;
    const pulled = await berth(['pull', ref, '--store', store]);
    expect(pulled.stderr).toContain('downloading');
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(new RegExp(`^${ref} sha256:[0-9a-f]{64}\\n$`));
    const list = JSON.parse((await berth(['images', '--json', '--store', store])).stdout) as {
      ref: string;
      platform: string;
    }[];
    expect(list).toEqual([expect.objectContaining({ ref, platform: 'wasi/wasm' })]);
    // A single wasi manifest pulled with another platform asked for: pulled, with a warning (as podman does).
    const other = await berth(['pull', ref, '--platform', 'linux/amd64', '--store', await tmp('s-'), '-q']);
    expect(other.code).toBe(0);
    expect(other.stderr).toContain(
      "warning: the image's platform (wasi/wasm) does not match the one asked for (linux/amd64)",
    );
    for (const n of [1, 2]) {
      const run = await berth(['run', '-v', 'counter:/data', '--store', store, ref], { stdin: REQUEST });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`hello from wasm, hits=${n}`);
    }
  });

  it('pulls a Docker v2 image and records its media types', async () => {
    const images = fsStore(await tmp('berth-store-'));
    const image = await pullImage(images, new RegistryClient(), `${reg.host}/berth/hello:v2`);
    expect(image.mediaType).toBe(MediaType.DockerManifest);
    expect(image.layers[0].mediaType).toBe(MediaType.DockerLayerGzip);
    expect(image.config.config?.Entrypoint).toEqual(['/app.wasm']);
  });

  it('chooses wasi/wasm from an index, or the platform asked for, and lists what an index offers', async () => {
    const images = fsStore(await tmp('berth-store-'));
    const wasm = await pullImage(images, new RegistryClient(), `${reg.host}/berth/multi:1`);
    expect(wasm.platform).toEqual({ os: 'wasi', architecture: 'wasm' });
    expect(wasm.indexDigest).toMatch(/^sha256:/);
    const store = await tmp('berth-store-');
    const linux = await berth([
      'pull',
      `${reg.host}/berth/multi:1`,
      '--platform',
      'linux/amd64',
      '--store',
      store,
      '-q',
    ]);
    expect(linux.code).toBe(0);
    const none = await berth(['pull', `${reg.host}/berth/linux-only:1`, '--store', store, '-q']);
    expect(none.code).toBe(125); // berth's own failure
    expect(none.stderr).toContain('linux/amd64, linux/arm64');
    expect(none.stderr).toContain('(not-found)');
    const list = JSON.parse((await berth(['images', '--json', '--store', store])).stdout) as { ref: string }[];
    expect(list.map((i) => i.ref)).toEqual([`${reg.host}/berth/multi:1`]);
  });

  it('pulls a CNCF Wasm artifact and runs its module', async () => {
    const store = await tmp('berth-store-');
    const ref = `${reg.host}/berth/artifact:1`;
    expect((await berth(['pull', ref, '--store', store, '-q'])).code).toBe(0);
    const run = await berth(['run', '--store', store, ref], { stdin: REQUEST });
    expect(run.stdout).toContain('hello from wasm, hits=1');
  });

  it('refuses a blob altered in the registry storage, and writes no image record', async () => {
    const images = fsStore(await tmp('berth-store-'));
    const victim = await tmp('berth-l-');
    const packed = await imageLayout(victim, 'v:1', {
      files: [{ path: '/tampered.txt', data: new TextEncoder().encode('original') }],
    });
    await skopeoCopy(`oci:${victim}:v:1`, reg, 'berth/victim:1');
    const layer = packed.manifest.layers[0].digest;
    const data = join(
      reg.storage,
      'docker/registry/v2/blobs/sha256',
      digestHex(layer).slice(0, 2),
      digestHex(layer),
      'data',
    );
    const bytes = await readFile(data);
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(data, bytes);
    await expect(pullImage(images, new RegistryClient(), `${reg.host}/berth/victim:1`)).rejects.toMatchObject({
      code: 'data-loss',
    });
    expect(await images.list()).toEqual([]);
    expect(await images.content.info(layer)).toBeUndefined();
  });

  it('resumes a blob whose connection dropped mid-way, with a Range request', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.rules.push({ match: (r) => r.method === 'GET' && r.url!.includes(bigDigest), times: 1, cutAfter: 1 << 20 });
      const images = fsStore(await tmp('berth-store-'));
      const image = await pullImage(images, new RegistryClient({ backoffMs: 10 }), `${proxy.host}/berth/big:1`);
      expect(image.layers[0].digest).toBe(bigDigest);
      const blobGets = proxy.log.filter((l) => l.url.includes(bigDigest));
      expect(blobGets.map((l) => l.fault ?? l.range ?? 'full')).toEqual([`cut after ${1 << 20}`, `bytes=${1 << 20}-`]);
    } finally {
      await proxy.close();
    }
  });

  it('checks free space before downloading, naming the image and the space it needs', async () => {
    const images = fsStore(await tmp('berth-store-'));
    const ref = `${reg.host}/berth/big:1`;
    // A nearly full disk cannot be made here; the estimate is what the browser would report.
    const estimate = async () => ({ usage: 1_000_000, quota: 1_500_000 });
    await expect(pullImage(images, new RegistryClient(), ref, { estimate })).rejects.toMatchObject({
      code: 'resource-exhausted',
      message: expect.stringContaining(`not enough storage to pull ${ref}`),
    });
    expect(await images.list()).toEqual([]);
    expect(await images.content.info(bigDigest as `sha256:${string}`)).toBeUndefined();
    // With room, the same pull goes through.
    await pullImage(images, new RegistryClient(), ref, { estimate: async () => ({ usage: 0, quota: 1e9 }) });
    expect(await images.list()).toHaveLength(1);
  });

  it('follows a redirect of a blob to other storage', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.rules.push({
        match: (r) => r.method === 'GET' && r.url!.includes('/blobs/'),
        times: 10,
        redirectTo: reg.url,
      });
      const images = fsStore(await tmp('berth-store-'));
      await pullImage(images, new RegistryClient(), `${proxy.host}/berth/hello:oci`);
      expect(proxy.log.filter((l) => l.fault === 'redirect').length).toBeGreaterThanOrEqual(2);
      expect(await images.list()).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('retries a 500, then succeeds', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.rules.push({ match: (r) => r.url!.includes('/manifests/'), times: 1, status: 500 });
      proxy.rules.push({ match: (r) => r.url!.includes('/blobs/'), times: 1, status: 503 });
      const images = fsStore(await tmp('berth-store-'));
      await pullImage(images, new RegistryClient({ backoffMs: 10 }), `${proxy.host}/berth/hello:oci`);
      expect(proxy.log.filter((l) => l.fault).map((l) => l.fault)).toEqual(['status 500', 'status 503']);
      expect(await images.list()).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('gives up after the retries with a clear error', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.rules.push({ match: () => true, times: 100, status: 502 });
      const images = fsStore(await tmp('berth-store-'));
      await expect(
        pullImage(images, new RegistryClient({ backoffMs: 1, retries: 2 }), `${proxy.host}/berth/hello:oci`),
      ).rejects.toMatchObject({ code: 'unavailable', status: 502 });
      expect(proxy.log).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('recovers from a pull killed mid-way: the next pull completes the store', async () => {
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.rules.push({ match: (r) => r.url!.includes(bigDigest), times: 1, delayMs: 5 });
      const store = await tmp('berth-store-');
      const ref = `${proxy.host}/berth/big:1`;
      const { spawn } = await import('node:child_process');
      const { BERTH } = await import('./cli.ts');
      const child = spawn(process.execPath, [BERTH, 'pull', ref, '--store', store, '-q'], { stdio: 'ignore' });
      // Kill once the big blob is being streamed.
      for (let i = 0; i < 400 && !proxy.log.some((l) => l.url.includes(bigDigest)); i++)
        await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const listed = JSON.parse((await berth(['images', '--json', '--store', store])).stdout) as unknown[];
      expect(listed).toEqual([]);
      const blobs = await readdir(join(store, 'blobs/sha256')).catch(() => [] as string[]);
      expect(blobs).not.toContain(digestHex(bigDigest as `sha256:${string}`));
      const again = await berth(['pull', ref, '--store', store, '-q']);
      expect(again.code).toBe(0);
      const run = await berth(['run', '--store', store, ref], { stdin: REQUEST });
      expect(run.stdout).toContain('hits=1');
    } finally {
      await proxy.close();
    }
  });
});

describe('pull with basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    const oci = await tmp('berth-l-');
    await imageLayout(oci, 'x:1');
    await skopeoCopy(`oci:${oci}:x:1`, reg, 'berth/private:1', { creds: 'alice:s3cret' });
  }, 60_000);
  afterAll(() => reg?.stop());

  it('refuses without credentials and pulls with -u or --password-stdin', async () => {
    const store = await tmp('berth-store-');
    const ref = `${reg.host}/berth/private:1`;
    const anon = await berth(['pull', ref, '--store', store, '-q']);
    expect(anon.code).toBe(125); // berth's own failure
    expect(anon.stderr).toContain('(unauthenticated)');
    const wrong = await berth(['pull', ref, '--store', store, '-q', '-u', 'alice:nope']);
    expect(wrong.code).toBe(125);
    expect((await berth(['pull', ref, '--store', store, '-q', '-u', 'alice:s3cret'])).code).toBe(0);
    const store2 = await tmp('berth-store-');
    expect(
      (await berth(['pull', ref, '--store', store2, '-q', '-u', 'alice', '--password-stdin'], { stdin: 's3cret\n' }))
        .code,
    ).toBe(0);
  });

  it('pushes to the registry with credentials, and the pushed image pulls back and runs', async () => {
    const store = await tmp('berth-store-');
    const src = `${reg.host}/berth/private:1`;
    expect((await berth(['pull', src, '--store', store, '-q', '-u', 'alice:s3cret'])).code).toBe(0);
    const target = `${reg.host}/berth/pushed:2`;
    const push = await berth(['push', src, target, '--store', store, '-u', 'alice:s3cret']);
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/^.*pushed:2 sha256:[0-9a-f]{64}\n$/);
    const store2 = await tmp('berth-store-');
    expect((await berth(['pull', target, '--store', store2, '-q', '-u', 'alice:s3cret'])).code).toBe(0);
    const run = await berth(['run', '--store', store2, target], { stdin: REQUEST });
    expect(run.stdout).toContain('hits=1');
  });
});

describe('pull with a token realm', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' });
    const oci = await tmp('berth-l-');
    await imageLayout(oci, 'x:1');
    await skopeoCopy(`oci:${oci}:x:1`, reg, 'berth/public:1', { creds: 'alice:s3cret' });
  }, 60_000);
  afterAll(() => reg?.stop());

  it('pulls anonymously with one token, reused for every request of the pull', async () => {
    reg.tokenRequests.length = 0;
    const images = fsStore(await tmp('berth-store-'));
    await pullImage(images, new RegistryClient(), `${reg.host}/berth/public:1`);
    expect(reg.tokenRequests).toEqual([
      { authorization: undefined, scope: 'repository:berth/public:pull', service: 'berth-test' },
    ]);
  });

  it('sends credentials to the token endpoint, pushes, and refuses bad credentials', async () => {
    const images = fsStore(await tmp('berth-store-'));
    const client = new RegistryClient({ credentials: () => ({ username: 'alice', password: 's3cret' }) });
    await pullImage(images, client, `${reg.host}/berth/public:1`);
    const { pushImage } = await import('../../runtime/images/index.ts');
    reg.tokenRequests.length = 0;
    await pushImage(images, client, `${reg.host}/berth/public:1`, `${reg.host}/berth/copy:1`);
    expect(reg.tokenRequests.every((t) => t.authorization?.startsWith('Basic '))).toBe(true);
    expect(reg.tokenRequests.map((t) => t.scope)).toContain('repository:berth/copy:push,pull');
    const bad = new RegistryClient({ credentials: () => ({ username: 'alice', password: 'wrong' }) });
    await expect(
      pullImage(fsStore(await tmp('berth-store-')), bad, parseReference(`${reg.host}/berth/copy:1`)),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});
