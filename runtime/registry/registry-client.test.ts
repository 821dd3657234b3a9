import { describe, expect, it } from 'vitest';
import { RegistryClient } from './registry-client.ts';

describe('RegistryClient', () => {
  it('uses https except for loopback registries and those marked insecure', () => {
    const c = new RegistryClient({ insecureRegistries: ['reg.lan:5000'] });
    expect(c.baseUrl('ghcr.io')).toBe('https://ghcr.io');
    expect(c.baseUrl('docker.io')).toBe('https://registry-1.docker.io');
    expect(c.baseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(c.baseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(c.baseUrl('reg.lan:5000')).toBe('http://reg.lan:5000');
    expect(c.baseUrl('reg.lan:5001')).toBe('https://reg.lan:5001');
  });
});

// A hostile registry and token service on loopback: what they answer must end in berth's
// RegistryError with a reason, never a SyntaxError or TypeError from their bodies.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRuntimeError } from '../core/index.ts';
import { afterAll, beforeAll } from 'vitest';

describe('RegistryClient against a hostile registry', () => {
  let server: Server;
  let host = '';
  let tokenBody = '';
  let tokenHits = 0;
  let errorBody = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        tokenHits++;
        return res.writeHead(200, { 'content-type': 'application/json' }).end(tokenBody);
      }
      if (req.headers.authorization === 'Bearer t')
        return res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      if (url.pathname.startsWith('/v2/open/'))
        return res.writeHead(500, { 'content-type': 'application/json' }).end(errorBody);
      res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="x"` })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  for (const body of ['not json', 'null', '42', '{"token": 5}', '{"token": ""}', '{"access_token": {"a": 1}}', '[]']) {
    it(`a token service answering ${body} is refused as giving no token`, async () => {
      tokenBody = body;
      const client = new RegistryClient();
      const e = await client
        .getManifest({ registry: host, repository: 'locked/app', tag: '1' }, '1')
        .catch((x: unknown) => x);
      expect(isRuntimeError(e, 'unauthenticated'), String(e)).toBe(true);
      expect(String(e)).toContain('answered without a token');
    });
  }

  it('a token with a nonsense lifetime is used, and kept for the default 60 s', async () => {
    tokenBody = '{"token": "t", "expires_in": "forever"}';
    tokenHits = 0;
    const client = new RegistryClient({ backoffMs: 1 });
    const ask = () =>
      client.getManifest({ registry: host, repository: 'locked/app', tag: '1' }, '1').catch((x: unknown) => x);
    const first = await ask();
    // The token was taken (the registry knows it: no such manifest), not refused for its body...
    expect(isRuntimeError(first, 'not-found'), String(first)).toBe(true);
    // ...and kept: a second request asks the token service no more (a NaN lifetime expired at once).
    const hits = tokenHits;
    await ask();
    expect(tokenHits).toBe(hits);
  });

  for (const body of [
    '{"errors": [null, {"code": 5}, {"code": "DENIED", "message": "no"}]}',
    '{"errors": null}',
    'null',
    '<html>',
  ]) {
    it(`an error body ${body} gives a RegistryError with what is well-formed in it`, async () => {
      errorBody = body;
      const e = await new RegistryClient({ backoffMs: 1 })
        .getManifest({ registry: host, repository: 'open/app', tag: '1' }, '1')
        .catch((x: unknown) => x);
      expect(isRuntimeError(e, 'unavailable'), String(e)).toBe(true);
      expect(String(e)).toContain('HTTP 500');
      if (body.includes('DENIED')) expect(String(e)).toContain('DENIED: no');
    });
  }
});

// The referrers API as registries with OCI 1.1 answer it (Debian's docker-registry 2.8 has none, so
// the integration tests cover the tag fallback; this small server covers the API and its pages).
describe('RegistryClient.referrers', () => {
  let server: Server;
  let host = '';
  const seen: string[] = [];
  const SUBJECT = `sha256:${'1'.repeat(64)}` as const;
  const desc = (n: number) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${String(n).repeat(64)}`,
    size: 1,
  });
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      const index = (manifests: unknown[], link?: string) =>
        res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', ...(link ? { link } : {}) })
          .end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
      if (url.pathname === `/v2/api/referrers/${SUBJECT}`)
        return url.searchParams.get('page') === '2'
          ? index([desc(3)])
          : index([desc(2)], `<http://evil.example/v2/api/referrers/${SUBJECT}?page=2>; rel="next"`);
      if (url.pathname === `/v2/big/referrers/${SUBJECT}`)
        return res.writeHead(200, { 'content-length': String(5 << 20) }).end();
      if (url.pathname === `/v2/chunked/referrers/${SUBJECT}`) {
        // No Content-Length: 5 MiB streamed in 64 KiB chunks.
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
        const chunk = Buffer.alloc(64 << 10, 0x20);
        let sent = 0;
        const more = () => {
          while (sent < 80) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        return more();
      }
      if (url.pathname === `/v2/flood/referrers/${SUBJECT}`) return index(Array.from({ length: 200_000 }, () => ({})));
      return res.writeHead(404).end('404 page not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reads every page of the API, following only the path of a next link', async () => {
    const r = await new RegistryClient().referrers({ registry: host, repository: 'api' }, SUBJECT);
    expect(r).toEqual({ via: 'api', manifests: [desc(2), desc(3)] });
    expect(seen).toContain(`/v2/api/referrers/${SUBJECT}?page=2`); // asked of this registry, not evil.example
  });

  it('falls back to the referrers tag on 404, and finds none when the tag is absent too', async () => {
    seen.length = 0;
    const r = await new RegistryClient().referrers({ registry: host, repository: 'old' }, SUBJECT);
    expect(r).toEqual({ via: 'tag', manifests: [] });
    expect(seen).toEqual([`/v2/old/referrers/${SUBJECT}`, `/v2/old/manifests/sha256-${'1'.repeat(64)}`]);
  });

  it('cuts a chunked page off at its cap, and keeps at most 1000 referrers of a flood', async () => {
    await expect(
      new RegistryClient().referrers({ registry: host, repository: 'chunked' }, SUBJECT),
    ).rejects.toMatchObject({
      code: 'resource-exhausted',
    });
    const flood = await new RegistryClient().referrers({ registry: host, repository: 'flood' }, SUBJECT);
    expect(flood.manifests).toHaveLength(1000);
  });

  it('refuses a page past its cap before reading it', async () => {
    await expect(new RegistryClient().referrers({ registry: host, repository: 'big' }, SUBJECT)).rejects.toMatchObject({
      code: 'resource-exhausted',
    });
  });
});
