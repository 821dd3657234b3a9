// Services from a terminal: `berth service create|ls|inspect|rm`, `berth serve` answering
// /svc/<name>/ from the CLI store (a fresh instance per request, volumes kept, the run log written,
// the header policy and cross-site refusal of the Service Worker), `berth logs [-f]`, and
// `berth run -p PORT IMAGE` answering curl-like requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERTH, berth, listeningBerth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const ECHO = fileURLToPath(new URL('../../examples/wagi-echo/wagi-echo.wasm', import.meta.url));

describe('services from the CLI', { timeout: 60_000 }, () => {
  let store: string;
  let dist: string;
  const children: ChildProcess[] = [];
  const b = (args: string[]) => berth([...args, '--store', store]);

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-svc-cli-'));
    store = join(dir, 'store');
    dist = join(dir, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>berth</title>');
    expect((await b(['pack', HELLO, '-t', 'localhost/t/hello:1', '--dir', '/data'])).code).toBe(0);
    expect((await b(['pack', ECHO, '-t', 'localhost/t/echo:1'])).code).toBe(0);
  });
  afterAll(() => {
    for (const c of children) c.kill();
  });

  it('creates, lists and inspects services; berth serve answers them with a fresh instance each', async () => {
    expect((await b(['service', 'create', 'hello', 'localhost/t/hello:1', '-v', 'hits:/data'])).code).toBe(0);
    expect((await b(['service', 'create', 'echo', 'localhost/t/echo:1', '--mode', 'wagi'])).code).toBe(0);
    expect((await b(['service', 'create', 'echo', 'localhost/t/echo:1'])).stderr).toContain('exists');
    const ls = (await b(['service', 'ls'])).stdout.split('\n');
    expect(ls[0]).toMatch(/^NAME +IMAGE +MODE +VOLUMES +CREATED$/);
    expect(ls.some((l) => /^hello +localhost\/t\/hello:1 +raw +hits:\/data /.test(l))).toBe(true);
    const [info] = JSON.parse((await b(['service', 'inspect', 'echo'])).stdout);
    expect(info).toMatchObject({ name: 'echo', mode: 'wagi', image: 'localhost/t/echo:1' });

    const { child, url } = await listeningBerth(['serve', '--port', '0', '--dist', dist, '--store', store]);
    children.push(child);
    const one = await fetch(`${url}svc/hello/`);
    expect(await one.text()).toBe('hello from wasm, hits=1\n');
    expect(one.headers.get('x-berth-runner')).toBe('node');
    // An untrusted service's pages get an opaque origin, as from the Service Worker.
    expect(one.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(await (await fetch(`${url}svc/hello/`)).text()).toBe('hello from wasm, hits=2\n');
    const echo = await fetch(`${url}svc/echo/a/b?x=1`, { method: 'POST', body: 'ping' });
    expect(echo.status).toBe(200);
    expect(await echo.text()).toMatch(/POST/);
    // A cross-site form post that navigates is refused, and the counter did not move.
    // (node:http, since fetch sets Sec-Fetch-Mode itself.)
    const evil = await new Promise<number>((resolve, reject) => {
      const r = request(
        `${url}svc/hello/`,
        {
          method: 'POST',
          headers: { origin: 'http://evil.example', 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'cross-site' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      r.on('error', reject);
      r.end('x=1');
    });
    expect(evil).toBe(403);
    expect(await (await fetch(`${url}svc/hello/`)).text()).toBe('hello from wasm, hits=3\n');
    expect((await fetch(`${url}svc/nothing/`)).status).toBe(404);

    // The run log.
    const logs = (await b(['logs', 'hello'])).stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('  '));
    expect(logs.filter((l) => / GET \/svc\/hello\/ 200 \d+ms node exit=0$/.test(l))).toHaveLength(3);
    expect(logs.filter((l) => / POST \/svc\/hello\/ 403 /.test(l))).toHaveLength(1);
    const follow = spawn(process.execPath, [BERTH, 'logs', '-f', '-n', '0', 'hello', '--store', store]);
    children.push(follow);
    let followed = '';
    follow.stdout.on('data', (c) => (followed += c));
    await new Promise((r) => setTimeout(r, 800));
    await (await fetch(`${url}svc/hello/?followed`)).text();
    const deadline = Date.now() + 10_000;
    while (!followed.includes('?followed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(followed).toMatch(/GET \/svc\/hello\/\?followed 200/);
    expect(followed).not.toContain('GET /svc/hello/ 200');

    expect((await b(['service', 'rm', 'echo'])).code).toBe(0);
    expect((await fetch(`${url}svc/echo/`)).status).toBe(404);
  });

  it('berth run -p serves an image on a port, a fresh instance per request', async () => {
    const { child, url } = await listeningBerth([
      'run',
      '--store',
      store,
      '-p',
      '0',
      '-v',
      'p-hits:/data',
      'localhost/t/hello:1',
    ]);
    children.push(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(url)).text()).toBe('hello from wasm, hits=1\n');
    expect(await (await fetch(`${url}again`)).text()).toBe('hello from wasm, hits=2\n');
  });

  it('berth serve stops a runaway program at its deadline with 504 and goes on answering', async () => {
    const SPIN = fileURLToPath(new URL('../fixtures/services/spin.wasm', import.meta.url));
    expect((await b(['pack', SPIN, '-t', 'localhost/t/spin:1'])).code).toBe(0);
    expect((await b(['service', 'create', 'spin', 'localhost/t/spin:1', '--timeout', '2'])).code).toBe(0);
    const { child, url } = await listeningBerth(['serve', '--port', '0', '--dist', dist, '--store', store]);
    children.push(child);
    const t0 = performance.now();
    const r = await fetch(`${url}svc/spin/`);
    expect(r.status).toBe(504);
    expect(await r.text()).toContain('did not finish within 2000 ms');
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect((await fetch(`${url}svc/hello/`)).status).toBe(200);
  });
});
