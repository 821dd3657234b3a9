import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { isPrivateAddress, registryProxyHandler, upstreamUrl } from './registry-proxy.ts';
import { RecordTable } from '../runtime/content/index.ts';
import { importLayout, layoutFiles, packImage } from '../runtime/images/index.ts';
import { createApp } from './serve.ts';
import { openStore } from './store.ts';

describe('berth serve', () => {
  let upstream: Server;
  let port: number;
  const seen: { method?: string; url?: string; auth?: string; body?: string }[] = [];
  let dist: string;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        if (req.url?.startsWith('/v2/missing')) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'docker-content-digest': 'sha256:abc',
          'set-cookie': 'x=1',
        });
        res.end(`upstream saw ${req.method} ${req.url}`);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    dist = await mkdtemp(join(tmpdir(), 'berth-dist-'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>berth</title>');
    await writeFile(join(dist, 'sw.js'), 'self.x=1');
  });
  afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

  it('serves the app with no-cache on the SW script', async () => {
    const app = createApp({ distDir: dist });
    const index = await app.request('/');
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>berth</title>');
    const sw = await app.request('/sw.js');
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    expect((await app.request('/nope.js')).status).toBe(404);
  });

  it('answers /svc/* itself with a 404 that explains the Service Worker', async () => {
    const res = await createApp({ distDir: dist }).request('/svc/hello-web-db');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Service Worker');
  });

  const own = { 'Sec-Fetch-Site': 'same-origin' };

  it('proxies GET /registry/<host>/v2/... with query, auth and Accept, and drops cookies', async () => {
    const app = createApp({ distDir: dist });
    const res = await app.request(`/registry/127.0.0.1:${port}/v2/lib/x/blobs/sha256:1?ns=docker.io`, {
      headers: { ...own, Authorization: 'Bearer t0k', Cookie: 'secret=1' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('upstream saw GET /v2/lib/x/blobs/sha256:1?ns=docker.io');
    expect(res.headers.get('docker-content-digest')).toBe('sha256:abc');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(seen.at(-1)).toMatchObject({ auth: 'Bearer t0k' });
    const fetched = await app.request(`/registry/127.0.0.1:${port}/v2/lib/x/blobs/sha256:1`, {
      headers: { ...own, 'Sec-Fetch-Dest': 'empty', 'Sec-Fetch-Mode': 'cors' },
    });
    expect(fetched.status).toBe(200);
    const missing = await app.request(`/registry/127.0.0.1:${port}/v2/missing/manifests/latest`, { headers: own });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
  });

  it("refuses what is not a pull from berth's own pages, and the upstream never sees it", async () => {
    const app = createApp({ distDir: dist });
    const before = seen.length;
    const v2 = `/registry/127.0.0.1:${port}/v2/lib/x/manifests/1`;
    const refused = [
      await app.request(v2, { method: 'PUT', headers: own, body: 'x' }),
      await app.request(v2, { method: 'DELETE', headers: own }),
      await app.request(`/registry/127.0.0.1:${port}/admin/delete-everything`, { headers: own }),
      await app.request(`/registry/127.0.0.1:${port}/token`, { headers: own }),
      await app.request(v2),
      await app.request(v2, { headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' } }),
      await app.request(v2, { headers: { ...own, Origin: 'https://evil.example' } }),
      await app.request(`http://rebound.evil.example:5173${v2}`, {
        headers: { ...own, Origin: 'http://rebound.evil.example:5173' },
      }),
      // A page, frame or script load of berth's own origin (a link, a service's redirect) would show
      // what the registry sent as a document of berth's origin.
      await app.request(v2, { headers: { ...own, 'Sec-Fetch-Dest': 'document', 'Sec-Fetch-Mode': 'navigate' } }),
      await app.request(v2, { headers: { ...own, 'Sec-Fetch-Dest': 'iframe' } }),
      await app.request(v2, { headers: { ...own, 'Sec-Fetch-Dest': 'script' } }),
    ];
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/^registry proxy: /);
    }
    expect(seen.length).toBe(before);
  });

  it('refuses a malformed host and reports an unreachable one', async () => {
    const app = createApp({ distDir: dist });
    expect((await app.request('/registry/bad host/v2/', { headers: own })).status).toBe(400);
    const down = await app.request('/registry/127.0.0.1:1/v2/', { headers: own });
    expect(down.status).toBe(502);
  });

  it('never follows a redirect to a private or loopback host the page did not ask for', async () => {
    // A hostile registry: its blob redirects to another loopback service (a metadata endpoint, say).
    let inner = 0;
    const target = createServer((_req, res) => {
      inner++;
      res.end('internal secret');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as AddressInfo).port;
    const hostile = createServer((req, res) => {
      if (req.url?.startsWith('/v2/self/')) res.writeHead(307, { location: '/v2/lib/x/blobs/moved' }).end();
      else if (req.url?.includes('https'))
        res.writeHead(302, { location: `https://127.0.0.1:${targetPort}/latest/meta-data` }).end();
      else res.writeHead(307, { location: `http://127.0.0.1:${targetPort}/latest/meta-data` }).end();
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    const hostilePort = (hostile.address() as AddressInfo).port;
    try {
      const app = createApp({ distDir: dist });
      const res = await app.request(`/registry/127.0.0.1:${hostilePort}/v2/lib/x/blobs/sha256:1`, { headers: own });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('only https leaves the registry');
      const tls = await app.request(`/registry/127.0.0.1:${hostilePort}/v2/lib/x/blobs/https`, { headers: own });
      expect(tls.status).toBe(403);
      expect(await tls.text()).toContain('private or loopback address the page did not ask for');
      expect(inner).toBe(0);
      // A redirect within the host the page asked for is followed.
      const same = await app.request(`/registry/127.0.0.1:${hostilePort}/v2/self/x`, { headers: own });
      expect(same.status).toBe(403); // ...to /v2/lib/x/blobs/moved, which redirects out again
      expect(inner).toBe(0);
    } finally {
      hostile.close();
      target.close();
    }
  });

  it('forwards to a token endpoint only after a registry named it as its realm', async () => {
    const auth = createServer((req, res) => {
      if (req.url?.startsWith('/v2/')) {
        res
          .writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${authPort}/token",service="reg"` })
          .end();
      } else res.writeHead(200, { 'content-type': 'application/json' }).end(`{"token":"t","url":"${req.url}"}`);
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    const authPort = (auth.address() as AddressInfo).port;
    try {
      const app = createApp({ distDir: dist });
      const token = `/registry/127.0.0.1:${authPort}/token?scope=repository:x:pull`;
      expect((await app.request(token, { headers: own })).status).toBe(403);
      expect((await app.request(`/registry/127.0.0.1:${authPort}/v2/`, { headers: own })).status).toBe(401);
      const ok = await app.request(token, { headers: own });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ token: 't', url: '/token?scope=repository:x:pull' });
      expect((await app.request(`/registry/127.0.0.1:${authPort}/other`, { headers: own })).status).toBe(403);
    } finally {
      auth.close();
    }
  });

  it('refuses a token endpoint on a private address that a public registry named', async () => {
    let reached = 0;
    const inner = createServer((_req, res) => {
      reached++;
      res.end('{"token":"internal"}');
    });
    await new Promise<void>((r) => inner.listen(0, '127.0.0.1', r));
    const innerPort = (inner.address() as AddressInfo).port;
    // The "public" registry: 127.0.0.2, which the handler is told to count as public.
    const registry = createServer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${innerPort}/token"` }).end();
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.2', r));
    const regPort = (registry.address() as AddressInfo).port;
    try {
      const app = new Hono();
      app.all(
        '/registry/*',
        registryProxyHandler({
          insecure: new Set([`127.0.0.2:${regPort}`]),
          isPrivate: (ip) => ip !== '127.0.0.2' && isPrivateAddress(ip),
        }),
      );
      expect((await app.request(`/registry/127.0.0.2:${regPort}/v2/`, { headers: own })).status).toBe(401);
      const token = await app.request(`/registry/127.0.0.1:${innerPort}/token`, { headers: own });
      expect(token.status).toBe(403);
      expect(await token.text()).toContain('a public registry named');
      expect(reached).toBe(0);
    } finally {
      registry.close();
      inner.close();
    }
  });

  it('knows private addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ])
      expect(isPrivateAddress(ip)).toBe(true);
    for (const ip of ['8.8.8.8', '172.32.0.1', '2606:4700::1']) expect(isPrivateAddress(ip)).toBe(false);
  });

  it('uses https except for loopback and insecure registries, and maps docker.io', () => {
    const none = new Set<string>();
    expect(upstreamUrl('ghcr.io', 'v2/', '', none)).toBe('https://ghcr.io/v2/');
    expect(upstreamUrl('docker.io', 'v2/library/x/manifests/1', '?a', none)).toBe(
      'https://registry-1.docker.io/v2/library/x/manifests/1?a',
    );
    expect(upstreamUrl('localhost:5000', 'v2/', '', none)).toBe('http://localhost:5000/v2/');
    expect(upstreamUrl('reg.lan:5000', 'v2/', '', new Set(['reg.lan:5000']))).toBe('http://reg.lan:5000/v2/');
  });
});

// From a review by attack: berth serve answered /svc/* for any Host (DNS rebinding made another
// site same-origin with it), and let another site's no-cors POST reach a service (only navigations
// were checked, as the Service Worker sees only those from other sites; a server sees them all).
describe("berth serve's /svc/* and other sites", () => {
  let app: Hono;
  beforeAll(async () => {
    const base = await mkdtemp(join(tmpdir(), 'berth-serve-svc-'));
    const dist = join(base, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'index.html'), '<title>berth</title>');
    const store = openStore(join(base, 'store'));
    const wasm = new Uint8Array(
      await readFile(new URL('../tests/fixtures/services/hostile-page.wasm', import.meta.url)),
    );
    const packed = await packImage({ wasm });
    const ref = 'localhost/test/hostile:1';
    const files = layoutFiles(packed.blobs, [{ name: ref, manifest: packed.manifestDescriptor }]);
    const [image] = await importLayout(store.images, {
      read: async (p) => files.get(p) ?? Promise.reject(new Error(p)),
    });
    await store.records
      .table(RecordTable.Services)
      .put('hostile', { name: 'hostile', image: ref, imageDigest: image.digest, mode: 'raw', volumes: [], created: 0 });
    await store.records.table(RecordTable.Services).put('small', {
      name: 'small',
      image: ref,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [],
      limits: { requestBytes: 1024 },
      created: 0,
    });
    app = createApp({ distDir: dist, store });
  }, 60_000);
  const post = (url: string, headers: Record<string, string>) =>
    app.request(url, { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'text/plain', ...headers } });
  const svc = 'http://127.0.0.1:5173/svc/hostile/posted';

  it("refuses another site's POST whether or not it is a navigation, before the service runs", async () => {
    for (const mode of ['no-cors', 'cors', 'navigate']) {
      const r = await post(svc, {
        'Sec-Fetch-Mode': mode,
        'Sec-Fetch-Site': 'cross-site',
        Origin: 'https://evil.example',
      });
      expect(r.status, mode).toBe(403);
      expect(await r.text()).toMatch(/^berth: a POST from another site \(https:\/\/evil\.example\)/);
    }
    const sandboxed = await post(svc, { 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Site': 'cross-site', Origin: 'null' });
    expect(sandboxed.status).toBe(403);
  });

  it('refuses a Host that is a DNS name (rebinding), for GET too', async () => {
    const rebound = 'http://rebound.evil.example:5173/svc/hostile/';
    const get = await app.request(rebound);
    expect(get.status).toBe(403);
    expect(await get.text()).toMatch(/could be rebound/);
    const r = await post(`${rebound}posted`, {
      'Sec-Fetch-Site': 'same-origin',
      Origin: 'http://rebound.evil.example:5173',
    });
    expect(r.status).toBe(403);
  });

  it('answers a DNS name it was told (berth serve --server-name)', async () => {
    const base = await mkdtemp(join(tmpdir(), 'berth-serve-names-'));
    await writeFile(join(base, 'index.html'), '<title>berth</title>');
    const named = createApp({ distDir: base, serverNames: ['berth.lan'], store: openStore(join(base, 'store')) });
    // No such service in that empty store: the 404 says the Host passed.
    expect((await named.request('http://berth.lan:5173/svc/hostile/')).status).toBe(404);
    expect((await named.request('http://other.lan:5173/svc/hostile/')).status).toBe(403);
    // In any case, and with a final dot, either side (from a review: `--server-name MyBox.lan` refused all).
    const cased = createApp({ distDir: base, serverNames: ['MyBox.LAN.'], store: openStore(join(base, 'store')) });
    for (const host of ['mybox.lan', 'MYBOX.lan', 'mybox.lan.'])
      expect((await cased.request(`http://${host}:5173/svc/hostile/`)).status, host).toBe(404);
  });

  // From a review: a request in absolute form takes its URL from the target, whatever its Host says.
  // No browser sends that form to a server (only to a proxy), but the Host header is checked too.
  it('checks the Host header as well as the URL', async () => {
    const r = await app.request(
      new Request('http://127.0.0.1:5173/svc/hostile/', { headers: { Host: 'rebound.evil.example:5173' } }),
    );
    expect(r.status).toBe(403);
    expect(await r.text()).toMatch(/not known as rebound\.evil\.example/);
  });

  it("answers 413 to a body past the service's cap, read no further, before the service runs", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 4096;
        c.enqueue(new Uint8Array(4096));
      },
    });
    const r = await app.request('http://127.0.0.1:5173/svc/small/posted', {
      method: 'POST',
      body: endless,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(await r.text()).toMatch(/larger than this service takes \(1024 bytes\)/);
    expect(pulled).toBeLessThan(64 * 1024);
    const fits = await post('http://127.0.0.1:5173/svc/small/posted', {});
    expect(fits.status).toBe(200);
  });

  it("answers berth's own page and curl", async () => {
    const own = await post(svc, {
      'Sec-Fetch-Mode': 'cors',
      'Sec-Fetch-Site': 'same-origin',
      Origin: 'http://127.0.0.1:5173',
    });
    expect(own.status).toBe(200);
    const curl = await post(svc, {});
    expect(curl.status).toBe(200);
    expect((await app.request('http://localhost:5173/svc/hostile/')).status).toBe(200);
  });
});
