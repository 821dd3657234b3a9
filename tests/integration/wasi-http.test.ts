// wasi:http handler components from a terminal, with real parts: the ComponentizeJS handlers of
// tests/fixtures/components/http packed as a CNCF Wasm artifact and as a tar-layer image, pushed to
// a local docker-registry, pulled into a fresh store, bound as services and served by `berth serve`
// (a fresh instance per request), and by `berth run -p`.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmArtifactLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { berth, listeningBerth } from './cli.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/components/${name}.component.wasm`, import.meta.url));
const CORE = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));

describe('wasi:http components from the CLI', { timeout: 180_000 }, () => {
  let reg: TestRegistry;
  let work: string;
  let store: string;
  let dist: string;
  const children: ChildProcess[] = [];
  const b = (args: string[]) => berth([...args, '--store', store]);

  beforeAll(async () => {
    reg = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'berth-wasi-http-'));
    const packing = join(work, 'packing');
    const pack = (args: string[]) => berth([...args, '--store', packing]);
    expect((await pack(['pack', fixture('hello-http'), '-t', 'localhost/t/hello-http:1', '--artifact'])).code).toBe(0);
    expect((await pack(['pack', fixture('http-kit'), '-t', 'localhost/t/http-kit:1', '--dir', '/data'])).code).toBe(0);
    expect((await pack(['pack', CORE, '-t', 'localhost/t/core:1'])).code).toBe(0);
    for (const name of ['hello-http', 'http-kit', 'core'])
      expect((await pack(['push', `localhost/t/${name}:1`, `${reg.host}/t/${name}:1`])).code).toBe(0);
    // berth serve needs an app to serve beside /svc (a fresh clone has no build yet).
    dist = join(work, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>berth</title>');
    store = join(work, 'store');
    for (const name of ['hello-http', 'http-kit', 'core'])
      expect((await b(['pull', '-q', `${reg.host}/t/${name}:1`])).code).toBe(0);
  }, 180_000);
  afterAll(() => {
    for (const c of children) c.kill();
    reg?.stop();
  });

  it('pulled as an artifact and as a tar-layer image, each is served per request; the counter keeps +N', async () => {
    const artifact = JSON.parse((await b(['inspect', `${reg.host}/t/hello-http:1`])).stdout)[0];
    expect(artifact).toMatchObject({ Os: 'wasip2', Layers: [{ MediaType: 'application/wasm' }] });
    // The default mode serves a handler as wasi:http; naming the mode refuses anything else.
    expect((await b(['service', 'create', 'hello', `${reg.host}/t/hello-http:1`])).code).toBe(0);
    expect(
      (
        await b([
          'service',
          'create',
          'kit',
          `${reg.host}/t/http-kit:1`,
          '--mode',
          'wasi-http',
          '-v',
          'kit-data:/data',
          '--allow-host',
          '/svc/hello/',
        ])
      ).code,
    ).toBe(0);
    expect((await b(['service', 'create', 'notahandler', `${reg.host}/t/core:1`, '--mode', 'wasi-http'])).code).toBe(0);
    const bad = await b(['service', 'create', 'x', `${reg.host}/t/core:1`, '--allow-host', 'http://evil']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a host name');

    const { child, url } = await listeningBerth(['serve', '--port', '0', '--dist', dist, '--store', store]);
    children.push(child);
    const hello = await fetch(`${url}svc/hello/`);
    expect(hello.status).toBe(200);
    expect(await hello.text()).toBe('hello from a wasi:http component\n');
    expect(hello.headers.get('x-berth-runner')).toBe('node');

    const body = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const echo = await fetch(`${url}svc/kit/echo?q=1`, { method: 'POST', body, headers: { 'x-from': 'test' } });
    expect(echo.headers.get('x-echo-method')).toBe('POST');
    expect(echo.headers.get('x-echo-path')).toBe('/svc/kit/echo?q=1');
    expect(JSON.parse(echo.headers.get('x-echo-headers') ?? '{}')['x-from']).toBe('test');
    expect(Buffer.compare(Buffer.from(await echo.arrayBuffer()), Buffer.from(body))).toBe(0);

    // Ten at once: each run holds the volume's lock, so every one counts.
    const counts = await Promise.all(
      Array.from({ length: 10 }, async () => Number((await (await fetch(`${url}svc/kit/count`)).text()).trim())),
    );
    expect(counts.sort((a, c) => a - c)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // One service calls another: the fetch thread serves the inner request from the same store.
    const call = await fetch(`${url}svc/kit/call?to=hello`);
    expect(await call.text()).toBe('hello said 200: hello from a wasi:http component\n');
    const self = await fetch(`${url}svc/kit/call?to=kit`);
    expect(self.status).toBe(500);
    // A service it does not list is refused (kit lists /svc/hello/ only).
    const unlisted = await fetch(`${url}svc/kit/call?to=notahandler`);
    expect(unlisted.status).toBe(500);
    expect(await unlisted.text()).toContain('kit failed');
    const own = await fetch(`${url}svc/kit/call?to=..%2F`);
    expect(own.status).toBe(500);

    // Calls from services say where their chain stands: too deep, or needing a volume a caller
    // holds (it would wait for its caller), or past the caller's deadline, they are refused.
    const chained = async (value: string) =>
      (await fetch(`${url}svc/kit/count`, { headers: { 'x-berth-call': value } })).status;
    expect(await chained('depth=9')).toBe(508);
    expect(await chained('depth=1; volumes=other,kit-data')).toBe(508);
    expect(await chained(`depth=1; deadline=${Date.now() - 1}`)).toBe(504);
    expect(await chained('depth=1; volumes=other')).toBe(200);

    // A handler that never returns is stopped at its deadline (its core modules are metered), and
    // the server goes on answering.
    expect(
      (
        await b([
          'service',
          'create',
          'kit-2s',
          `${reg.host}/t/http-kit:1`,
          '--timeout',
          '2',
          '--allow-host',
          '/svc/*/',
        ])
      ).code,
    ).toBe(0);
    const t0 = performance.now();
    const spun = await fetch(`${url}svc/kit-2s/spin`);
    expect(spun.status).toBe(504);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(await (await fetch(`${url}svc/hello/`)).text()).toBe('hello from a wasi:http component\n');

    const refused = await fetch(`${url}svc/notahandler/`);
    expect(refused.status).toBe(502);
    expect(await refused.text()).toContain('not a wasi:http handler');

    const logs = (await b(['logs', 'kit'])).stdout;
    expect(logs).toMatch(/GET \/svc\/kit\/count 200/);
  });

  it('pulls and serves a handler laid out as wkg oci push writes it', async () => {
    const layout = join(work, 'wkg');
    await wasmArtifactLayout(layout, 'hello:wkg', {
      wasm: new Uint8Array(await readFile(fixture('hello-http'))),
      wkg: {
        os: 'wasip2',
        component: {
          exports: ['wasi:http/incoming-handler@0.2.10'],
          imports: ['wasi:http/types@0.2.10'],
          target: null,
        },
      },
    });
    await skopeoCopy(`oci:${layout}:hello:wkg`, reg, 't/hello-wkg:1');
    expect((await b(['pull', '-q', `${reg.host}/t/hello-wkg:1`])).code).toBe(0);
    const { child, url } = await listeningBerth(['run', '--store', store, '-p', '0', `${reg.host}/t/hello-wkg:1`]);
    children.push(child);
    expect(await (await fetch(url)).text()).toBe('hello from a wasi:http component\n');
  });

  it('berth run -p serves a handler; berth run says a handler is no command', async () => {
    const { child, url } = await listeningBerth(['run', '--store', store, '-p', '0', `${reg.host}/t/hello-http:1`]);
    children.push(child);
    expect(await (await fetch(url)).text()).toBe('hello from a wasi:http component\n');
    const run = await berth(['run', '--store', store, `${reg.host}/t/hello-http:1`]);
    expect(run.code).toBe(126);
    expect(run.stderr).toContain('wasi:http handler, not a command');
  });
});
