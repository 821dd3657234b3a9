import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamUrl } from './registry-proxy.ts';
import { createApp } from './serve.ts';

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
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'docker-content-digest': 'sha256:abc', 'set-cookie': 'x=1' });
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

  it('proxies /registry/<host>/... with method, query, auth and body, and drops cookies', async () => {
    const app = createApp({ distDir: dist });
    const res = await app.request(`/registry/127.0.0.1:${port}/v2/lib/x/blobs/uploads/?digest=sha256:1`, {
      method: 'PUT',
      headers: { Authorization: 'Bearer t0k', Cookie: 'secret=1' },
      body: 'layer-bytes',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('upstream saw PUT /v2/lib/x/blobs/uploads/?digest=sha256:1');
    expect(res.headers.get('docker-content-digest')).toBe('sha256:abc');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(seen.at(-1)).toMatchObject({ auth: 'Bearer t0k', body: 'layer-bytes' });
    const missing = await app.request(`/registry/127.0.0.1:${port}/v2/missing/manifests/latest`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
  });

  it('refuses a malformed host and reports an unreachable one', async () => {
    const app = createApp({ distDir: dist });
    expect((await app.request('/registry/bad host/v2/')).status).toBe(400);
    const down = await app.request('/registry/127.0.0.1:1/v2/');
    expect(down.status).toBe(502);
  });

  it('uses https except for loopback and insecure registries, and maps docker.io', () => {
    const none = new Set<string>();
    expect(upstreamUrl('ghcr.io', 'v2/', '', none)).toBe('https://ghcr.io/v2/');
    expect(upstreamUrl('docker.io', 'v2/library/x/manifests/1', '?a', none)).toBe('https://registry-1.docker.io/v2/library/x/manifests/1?a');
    expect(upstreamUrl('localhost:5000', 'v2/', '', none)).toBe('http://localhost:5000/v2/');
    expect(upstreamUrl('reg.lan:5000', 'v2/', '', new Set(['reg.lan:5000']))).toBe('http://reg.lan:5000/v2/');
  });
});
