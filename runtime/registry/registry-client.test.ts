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

// From a review by attack: a registry that never answers, drips, sends without end, or names other
// hosts for the user's password. The timeouts here are short so the tests are; berth's are 60 s.
describe('RegistryClient against a registry that stalls, floods or fishes for credentials', () => {
  let server: Server;
  let host = '';
  let sent = 0;
  const seen: { path: string; auth?: string }[] = [];
  const open = new Set<import('node:http').ServerResponse>();
  const BLOB = `sha256:${'a'.repeat(64)}` as const;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ path: url.pathname, auth: req.headers.authorization });
      open.add(res);
      res.on('close', () => open.delete(res));
      const endless = (status: number) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 << 10, 0x20);
        const more = () => {
          while (!res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
        };
        more();
      };
      if (url.pathname === '/v2/silent/manifests/1') return; // never answers
      if (url.pathname === '/v2/drip/manifests/1') {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
        return;
      }
      if (url.pathname === `/v2/stall/blobs/${BLOB}`) {
        res.writeHead(200, { 'content-length': '1000' });
        return void res.write(Buffer.alloc(10)); // then nothing
      }
      if (url.pathname === '/v2/flood/manifests/1') return endless(404);
      if (url.pathname === '/v2/locked/manifests/1') {
        if (req.headers.authorization === 'Bearer t') return res.writeHead(404).end();
        return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="x"` }).end();
      }
      if (url.pathname === '/token') return endless(200);
      if (url.pathname.startsWith('/v2/push/') && !req.headers.authorization)
        return res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      if (url.pathname === '/v2/push/blobs/uploads/') {
        // The upload goes to another origin (here: localhost, the same server under another name).
        return res.writeHead(202, { location: `http://localhost:${host.split(':')[1]}/upload/1` }).end();
      }
      if (url.pathname === '/upload/1') return res.writeHead(201).end();
      if (url.pathname.startsWith('/v2/push/blobs/')) return res.writeHead(404).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    for (const r of open) r.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const timeouts = { headersMs: 300, idleMs: 300, documentMs: 500 };
  const client = (extra: ConstructorParameters<typeof RegistryClient>[0] = {}) =>
    new RegistryClient({ retries: 0, backoffMs: 1, timeouts, ...extra });
  const manifest = (repository: string, c = client()) =>
    c.getManifest({ registry: host, repository, tag: '1' }, '1').catch((x: unknown) => x);

  it('gives up on a registry that never answers', async () => {
    const e = await manifest('silent');
    expect(isRuntimeError(e, 'unavailable'), String(e)).toBe(true);
    expect(String(e)).toMatch(/sent no answer in 0\.3 s/);
  });

  it('gives up on a manifest that drips a byte at a time', async () => {
    const e = await manifest('drip');
    expect(isRuntimeError(e, 'deadline-exceeded'), String(e)).toBe(true);
  });

  it('treats a blob download gone quiet as dropped: it resumes, then gives up', async () => {
    const stream = await client({ retries: 1 }).blobStream(
      { registry: host, repository: 'stall' },
      { digest: BLOB, size: 1000 },
    );
    const e = await new Response(stream).arrayBuffer().catch((x: unknown) => x);
    expect(isRuntimeError(e, 'unavailable'), String(e)).toBe(true);
    expect(String(e)).toMatch(/dropped 2 times/);
    expect(seen.filter((s) => s.path === `/v2/stall/blobs/${BLOB}`).length).toBe(2);
  });

  it('reads no more than 64 KiB of an endless error body, and 1 MiB of an endless token', async () => {
    sent = 0;
    const e = await manifest('flood');
    expect(isRuntimeError(e, 'not-found'), String(e)).toBe(true);
    expect(sent).toBeLessThan(64 << 20);
    sent = 0;
    const t = await manifest('locked');
    expect(isRuntimeError(t, 'resource-exhausted'), String(t)).toBe(true);
    expect(String(t)).toMatch(/the token of/);
    expect(sent).toBeLessThan(64 << 20);
  });

  it("sends the password to the registry's own origin only: not to an upload Location elsewhere", async () => {
    const c = new RegistryClient({
      retries: 0,
      timeouts,
      credentials: () => ({ username: 'alice', password: 's3cret' }),
    });
    // The registry asks for Basic auth on the first request.
    seen.length = 0;
    await c.pushBlob({ registry: host, repository: 'push' }, BLOB, new Uint8Array(1)).catch(() => {});
    // The registry itself got the password (the upload's start), the other origin did not.
    expect(seen.find((s) => s.path === '/v2/push/blobs/uploads/' && s.auth)?.auth).toMatch(/^Basic /);
    const upload = seen.find((s) => s.path === '/upload/1');
    expect(upload).toBeDefined();
    expect(upload?.auth).toBeUndefined();
  });

  it('sends no password to a token service on plain http elsewhere, and does over https', async () => {
    const asked: { url: string; auth: string | null }[] = [];
    const fake: typeof fetch = async (input, init) => {
      const url = String(input);
      asked.push({ url, auth: new Headers(init?.headers).get('authorization') });
      if (url.startsWith('https://tokens.example/')) return Response.json({ token: 't' });
      if (new Headers(init?.headers).get('authorization') === 'Bearer t') return new Response(null, { status: 404 });
      const realm = url.includes('/v2/plain/') ? 'http://tokens.example/token' : 'https://tokens.example/token';
      return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}"` } });
    };
    const c = new RegistryClient({
      fetch: fake,
      retries: 0,
      credentials: () => ({ username: 'alice', password: 's3cret' }),
    });
    const plain = await c.getManifest({ registry: 'reg.example', repository: 'plain', tag: '1' }, '1').catch((x) => x);
    expect(isRuntimeError(plain, 'unauthenticated'), String(plain)).toBe(true);
    expect(String(plain)).toMatch(/only over https/);
    expect(asked.some((a) => a.url.startsWith('http://tokens.example'))).toBe(false);
    const tls = await c.getManifest({ registry: 'reg.example', repository: 'tls', tag: '1' }, '1').catch((x) => x);
    expect(isRuntimeError(tls, 'not-found'), String(tls)).toBe(true);
    expect(asked.find((a) => a.url.startsWith('https://tokens.example'))?.auth).toMatch(/^Basic /);
  });
});

describe('readCapped', () => {
  it('with no deadline reads a body that takes its time', async () => {
    const { readCapped } = await import('./registry-fetch.ts');
    let n = 0;
    const slow = new Response(
      new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 20));
          if (n++ === 3) return c.close();
          c.enqueue(Uint8Array.of(n));
        },
      }),
    );
    expect([...(await readCapped(slow, 100, 'x', { deadlineMs: Number.POSITIVE_INFINITY }))]).toEqual([1, 2, 3]);
  });
});

// From a review of the timeouts: the head's deadline began before an upload's body was sent, so a
// push of a large blob was cut off while it was being sent; and the caller's signal kept a listener
// per request.
describe('timedFetch', () => {
  it("gives an upload its sending time before the head's deadline", async () => {
    const { timedFetch, DEFAULT_REGISTRY_TIMEOUTS } = await import('./registry-fetch.ts');
    const server = createServer((req, res) => {
      // Reads the body at about 1 MB/s.
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        req.pause();
        setTimeout(() => req.resume(), Math.ceil(c.length / 1000));
      });
      req.on('end', () => res.writeHead(201).end(String(got)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
      const body = new Uint8Array(1_500_000);
      const timeouts = { ...DEFAULT_REGISTRY_TIMEOUTS, headersMs: 300 };
      const res = await timedFetch((i, n) => fetch(i, n), url, { method: 'PUT', body }, timeouts);
      expect(res.status).toBe(201);
      expect(await res.text()).toBe(String(body.length));
      // The caller's signal keeps no listener once each response is read.
      const signal = new AbortController().signal;
      const added: unknown[] = [];
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((t: string, l: unknown, o?: unknown) => {
        added.push(l);
        add(t, l as EventListener, o as AddEventListenerOptions);
      }) as typeof signal.addEventListener;
      signal.removeEventListener = ((t: string, l: unknown) => {
        added.splice(added.indexOf(l), 1);
        remove(t, l as EventListener);
      }) as typeof signal.removeEventListener;
      for (let i = 0; i < 5; i++)
        await (
          await timedFetch((i, n) => fetch(i, n), url, { method: 'PUT', body: Uint8Array.of(1), signal }, timeouts)
        ).text();
      expect(added).toEqual([]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
