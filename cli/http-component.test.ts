// wasi:http handler components in Node, through berth's wasi:http host: the JS handlers of
// tests/fixtures/components/http (built with ComponentizeJS, see tests/fixtures/Makefile) served
// one request per fresh instance by serveComponent.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpFetchError, serveComponent, type HttpHostOptions } from '../runtime/component/index.ts';
import type { FsFile } from '../runtime/core/index.ts';
import { MemTree, type MemDir } from '../runtime/vfs/mem-tree.ts';
import { nodeComponentLoader } from './component-loader.ts';

const loader = nodeComponentLoader();
const dec = new TextDecoder();
const enc = new TextEncoder();

async function serve(
  name: 'hello-http' | 'http-kit',
  request: { method?: string; path: string; headers?: [string, string][]; body?: Uint8Array },
  options: { root?: MemDir; http?: Partial<HttpHostOptions> } = {},
) {
  const component = await loader.get(name, async () =>
    readFileSync(new URL(`../tests/fixtures/components/${name}.component.wasm`, import.meta.url)),
  );
  const heads: { status: number; headers: [string, string][] }[] = [];
  const chunks: { at: number; bytes: Uint8Array }[] = [];
  const err: Uint8Array[] = [];
  const t0 = performance.now();
  const r = await serveComponent(
    component,
    {
      args: [name],
      env: {},
      root: options.root ?? new MemTree().createRoot(),
      stderr: (c) => err.push(c.slice()),
    },
    {
      incoming: {
        method: request.method ?? 'GET',
        url: `http://127.0.0.1:8080/svc/${name}${request.path}`,
        headers: request.headers ?? [],
        body: request.body ?? null,
      },
      out: {
        head: (h) => heads.push(h),
        body: (c) => chunks.push({ at: performance.now() - t0, bytes: c.slice() }),
      },
      ...options.http,
    },
  );
  const body = Buffer.concat(chunks.map((c) => c.bytes));
  return { ...r, heads, chunks, body, text: dec.decode(body), stderr: dec.decode(Buffer.concat(err)) };
}

const header = (h: { headers: [string, string][] }, name: string) => h.headers.find(([k]) => k === name)?.[1];

describe('wasi:http handler components in Node', { timeout: 120_000 }, () => {
  it('serves the hello handler: one head, the body, finished', async () => {
    const r = await serve('hello-http', { path: '/' });
    expect(r.error).toBeUndefined();
    expect(r.heads).toHaveLength(1);
    expect(r.heads[0].status).toBe(200);
    expect(header(r.heads[0], 'content-type')).toBe('text/plain');
    expect(r.text).toBe('hello from a wasi:http component\n');
    expect(r.http).toMatchObject({ responded: true, finished: true, status: 200 });
  });

  it('echoes method, path, headers and a 3 MB body byte for byte', async () => {
    const body = new Uint8Array(3 * 2 ** 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
    const r = await serve('http-kit', {
      method: 'PUT',
      path: '/echo?x=1&y=%20',
      headers: [
        ['x-test', 'one'],
        ['content-type', 'application/octet-stream'],
      ],
      body,
    });
    expect(r.error).toBeUndefined();
    expect(header(r.heads[0], 'x-echo-method')).toBe('PUT');
    expect(header(r.heads[0], 'x-echo-path')).toBe('/svc/http-kit/echo?x=1&y=%20');
    expect(JSON.parse(header(r.heads[0], 'x-echo-headers') ?? '{}')).toMatchObject({ 'x-test': 'one' });
    expect(header(r.heads[0], 'x-echo-length')).toBe(String(body.length));
    expect(r.body.length).toBe(body.length);
    expect(Buffer.compare(r.body, Buffer.from(body))).toBe(0);
  });

  it('streams: each line reaches the sink as it is written, about 200 ms apart', async () => {
    const r = await serve('http-kit', { path: '/stream' });
    expect(r.text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    const lines = r.chunks.filter((c) => dec.decode(c.bytes).includes('line'));
    expect(lines.length).toBe(5);
    // Chunks, not one body at the end: the last line came well after the first.
    expect(lines[4].at - lines[0].at).toBeGreaterThan(600);
  });

  it('counts in a file of its root, one per request', async () => {
    const root = new MemTree().createRoot();
    root.createDir('data');
    for (let i = 1; i <= 3; i++) {
      const r = await serve('http-kit', { path: '/count' }, { root });
      expect(r.text).toBe(`${i}\n`);
    }
    const data = root.lookup('data') as MemDir;
    const f = data.lookup('count') as FsFile;
    const buf = new Uint8Array(16);
    expect(dec.decode(buf.subarray(0, f.read(0, buf)))).toBe('3');
  });

  it('refuses outgoing requests unless the policy allows them, and passes allowed ones to the fetch', async () => {
    const denied = await serve('http-kit', { path: '/call?to=other' });
    expect(denied.heads[0].status).toBe(500);
    expect(denied.http.fetches).toEqual([
      { url: 'http://127.0.0.1:8080/svc/other/', refused: 'this service may make no outgoing requests' },
    ]);
    const seen: string[] = [];
    const allowed = await serve(
      'http-kit',
      { path: '/call?to=other' },
      {
        http: {
          outgoing: (u) => (u.pathname.startsWith('/svc/') ? undefined : 'no'),
          fetch: (req) => {
            seen.push(`${req.method} ${req.url}`);
            return { status: 201, headers: [['content-type', 'text/plain']], body: enc.encode('hi there') };
          },
        },
      },
    );
    expect(seen).toEqual(['GET http://127.0.0.1:8080/svc/other/']);
    expect(allowed.text).toBe('other said 201: hi there');
    const failing = await serve(
      'http-kit',
      { path: '/call?to=gone' },
      {
        http: {
          outgoing: () => undefined,
          fetch: () => {
            throw new HttpFetchError('destination-not-found', 'no such host');
          },
        },
      },
    );
    expect(failing.heads[0].status).toBe(500);
    expect(failing.text).toContain('kit failed');
    // A fetch that followed a redirect to where the service may not go: the answer is refused.
    const redirected = await serve(
      'http-kit',
      { path: '/call?to=other' },
      {
        http: {
          outgoing: (u) => (u.pathname.startsWith('/svc/') ? undefined : "berth's own"),
          fetch: () => ({ status: 200, headers: [], body: enc.encode('<html>berth'), url: 'http://127.0.0.1:8080/' }),
        },
      },
    );
    expect(redirected.heads[0].status).toBe(500);
    expect(redirected.text).not.toContain('<html>berth');
    expect(redirected.http.fetches[0].refused).toBe("redirected to http://127.0.0.1:8080/: berth's own");
  });
});
