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
