// The whole request path in Node: pack the example into an OCI layout, import it (verified,
// unpacked, indexed), bind a service, and serve requests through the WASI broker.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../content/index.ts';
import { blobPath, ImageStore, importLayout, layoutFiles, packImage, type LayoutReader } from '../images/index.ts';
import { RuntimeError } from '../core/index.ts';
import { nodeRunContext, type RunContext } from '../run/index.ts';
import { ModuleCache } from '../run/module-cache.ts';
import { instrumentDeadline } from '../wasm/instrument-deadline.ts';
import { CollectingSink } from './response-parser.ts';
import { serveRequest, serveRequestTo } from './serve-request.ts';
import type { ServiceRecord } from './service-record.ts';
import type { HttpRequestData } from './raw-http.ts';
import { VolumeStore } from '../run/volume-store.ts';

const dec = new TextDecoder();
const REF = 'localhost/test/hello-web-db:1';

function mapReader(files: Map<string, Uint8Array>): LayoutReader {
  return {
    async read(path) {
      const f = files.get(path);
      if (!f) throw new RuntimeError('not-found', path);
      return f;
    },
  };
}

async function layout() {
  const wasm = new Uint8Array(
    await readFile(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url)),
  );
  const packed = await packImage({ wasm, dirs: ['/data'] });
  return { packed, files: layoutFiles(packed.blobs, [{ name: REF, manifest: packed.manifestDescriptor }]) };
}

async function context(): Promise<RunContext> {
  return nodeRunContext({ content: new MemoryContentStore(), records: new MemoryRecords() });
}

const get = (path: string): HttpRequestData => ({
  method: 'GET',
  url: `http://127.0.0.1/svc/hello${path}`,
  headers: [],
  body: null,
});

describe('serveRequest', () => {
  it('imports the image, then counts hits across requests in a volume', async () => {
    const ctx = await context();
    const { packed, files } = await layout();
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    expect(image).toMatchObject({
      ref: REF,
      digest: packed.manifestDescriptor.digest,
      platform: { os: 'wasi', architecture: 'wasm' },
    });
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hello', {
      name: 'hello',
      image: REF,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [{ name: 'hello-data', path: '/data' }],
      created: 0,
    });
    for (const n of [1, 2, 3]) {
      const r = await serveRequest(ctx, 'hello', get('/'));
      expect(r.status).toBe(200);
      expect(dec.decode(r.body)).toBe(`hello from wasm, hits=${n}\n`);
    }
    // The volume holds the file the program wrote, and nothing of the per-run upper leaked into it.
    const vol = await new VolumeStore(ctx.records).open('hello-data');
    const file = vol.lookup('counter.json');
    expect(file?.kind).toBe('file');
    const bytes = new Uint8Array(64);
    const n = file!.kind === 'file' ? file!.read(0, bytes) : 0;
    expect(dec.decode(bytes.subarray(0, n))).toMatch(/"hits": 3/);
  });

  it('loses no update when 50 requests to one volume run at once', async () => {
    const ctx = await context();
    const { files } = await layout();
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hello', {
      name: 'hello',
      image: REF,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [{ name: 'shared', path: '/data' }],
      created: 0,
    });
    const all = await Promise.all(Array.from({ length: 50 }, () => serveRequest(ctx, 'hello', get('/'))));
    const counts = all.map((r) => Number(/hits=(\d+)/.exec(dec.decode(r.body))![1])).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('stops a program whose memory outgrows the service limit, with 502 and its stderr', async () => {
    const ctx = await context();
    const hog = new Uint8Array(await readFile(new URL('../../tests/fixtures/services/hog.wasm', import.meta.url)));
    const packed = await packImage({ wasm: hog });
    const files = layoutFiles(packed.blobs, [{ name: 'localhost/test/hog:1', manifest: packed.manifestDescriptor }]);
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hog', {
      name: 'hog',
      image: image.ref,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [],
      limits: { memoryBytes: 32 * 2 ** 20 },
      created: 0,
    });
    const r = await serveRequest(ctx, 'hog', get('/'));
    expect(r.status).toBe(502);
    const text = dec.decode(r.body);
    // The module's memory maximum is the cap: malloc fails inside the program, which says so.
    expect(text).toContain('(its memory reached its limit of 33554432 bytes)');
    expect(text).toMatch(/hog: malloc failed after (2\d|3[01]) MiB/);
  });

  it('stops a runaway program at its deadline with 504 when modules carry deadline checks', async () => {
    const ctx = { ...(await context()), modules: new ModuleCache(undefined, (b) => instrumentDeadline(b)) };
    const spin = new Uint8Array(await readFile(new URL('../../tests/fixtures/services/spin.wasm', import.meta.url)));
    const packed = await packImage({ wasm: spin });
    const files = layoutFiles(packed.blobs, [{ name: 'localhost/test/spin:1', manifest: packed.manifestDescriptor }]);
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('spin', {
      name: 'spin',
      image: image.ref,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [],
      limits: { timeoutMs: 300 },
      created: 0,
    });
    const r = await serveRequest(ctx, 'spin', get('/'));
    expect(r.status).toBe(504);
    expect(dec.decode(r.body)).toContain('did not finish within 300 ms');
  });

  it('answers 404 for an unknown service and 502 when the image is gone', async () => {
    const ctx = await context();
    expect((await serveRequest(ctx, 'nope', get('/'))).status).toBe(404);
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('ghost', {
      name: 'ghost',
      image: 'x',
      imageDigest: `sha256:${'0'.repeat(64)}`,
      mode: 'raw',
      volumes: [],
      created: 0,
    });
    const r = await serveRequest(ctx, 'ghost', get('/'));
    expect(r.status).toBe(502);
    expect(dec.decode(r.body)).toContain('not-found');
  });

  it('refuses a layout whose layer bytes were altered, and writes no image record', async () => {
    const ctx = await context();
    const { packed, files } = await layout();
    const layer = packed.manifest.layers[0];
    const tampered = files.get(blobPath(layer.digest))!.slice();
    tampered[tampered.length - 5] ^= 0xff;
    files.set(blobPath(layer.digest), tampered);
    await expect(importLayout(new ImageStore(ctx), mapReader(files))).rejects.toMatchObject({ code: 'data-loss' });
    expect(await new ImageStore(ctx).list()).toEqual([]);
    expect(await ctx.content.get(layer.digest)).toBeUndefined();
  });

  it('answers 502 naming the service and showing what it printed when its output is no valid response', async () => {
    const ctx = await context();
    const wasm = new Uint8Array(await readFile(new URL('../../tests/fixtures/services/badresp.wasm', import.meta.url)));
    const packed = await packImage({ wasm });
    const files = layoutFiles(packed.blobs, [
      { name: 'localhost/test/badresp:1', manifest: packed.manifestDescriptor },
    ]);
    const [image] = await importLayout(new ImageStore(ctx), mapReader(files));
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('bad', {
      name: 'bad',
      image: image.ref,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [],
      created: 0,
    });
    const cases: [string, RegExp][] = [
      ['/garbage', /no complete response head[\s\S]*It printed:\nhello, this is not HTTP\n\\x01 and a control byte/],
      ['/status', /status 999 is not a final HTTP status[\s\S]*HTTP\/1\.1 999 Nope\\r/],
      ['/name', /"Bad Header" is not a valid header name/],
      ['/ctl', /the value of header X-A has control characters/],
      ['/nothing', /exited with code 3 [\s\S]*wrote nothing to stdout[\s\S]*It printed nothing on stdout/],
    ];
    const at = (path: string): HttpRequestData => ({
      method: 'GET',
      url: `http://127.0.0.1/svc/bad${path}`,
      headers: [],
      body: null,
    });
    for (const [path, message] of cases) {
      const sink = new CollectingSink();
      const summary = await serveRequestTo(ctx, 'bad', at(path), sink);
      const r = sink.response();
      expect(r.status, path).toBe(502);
      const text = dec.decode(r.body);
      expect(text, path).toMatch(/^service bad (exited with code \d+|was stopped) without a valid HTTP response/);
      expect(text, path).toMatch(message);
      expect(text, path).toContain(`Its stderr:\nbadresp: got GET ${path} HTTP/1.1`);
      // The run log keeps the program's own stderr, and berth's account apart.
      expect(summary.stderrTail, path).toBe(`badresp: got GET ${path} HTTP/1.1\r\n`);
      expect(summary.error, path).toMatch(/^service bad (exited with code|was stopped)/);
    }
    expect((await serveRequest(ctx, 'bad', at('/fine'))).status).toBe(200);
  });
});

// From a review by attack: a service was given every request header, so `berth serve` passed
// localhost's cookies of other programs (cookies are not kept apart by port; no service can set
// one), `Proxy:` became HTTP_PROXY (httpoxy), and a header overrode the service's own env.
describe('what of a request a service is given', () => {
  it('no Cookie and no Proxy header; its own env wins over a header of the same variable', async () => {
    const ctx = await context();
    const wasm = new Uint8Array(
      await readFile(new URL('../../tests/fixtures/services/env-dump.wasm', import.meta.url)),
    );
    const packed = await packImage({ wasm });
    const ref = 'localhost/test/env-dump:1';
    const [image] = await importLayout(
      new ImageStore(ctx),
      mapReader(layoutFiles(packed.blobs, [{ name: ref, manifest: packed.manifestDescriptor }])),
    );
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('env', {
      name: 'env',
      image: ref,
      imageDigest: image.digest,
      mode: 'wagi',
      volumes: [],
      env: { HTTP_X_MINE: 'set by the service' },
      created: 0,
    });
    const r = await serveRequest(ctx, 'env', {
      method: 'GET',
      url: 'http://127.0.0.1/svc/env/',
      headers: [
        ['Cookie', 'session-of-another-app=s3cret'],
        ['Proxy', 'http://evil.example:3128'],
        ['X-Mine', 'from the request'],
        ['X-Other', 'kept'],
      ],
      body: null,
    });
    expect(r.status).toBe(200);
    const env = dec.decode(r.body);
    expect(env).toContain('HTTP_X_OTHER=kept\n');
    expect(env).toContain('HTTP_X_MINE=set by the service\n');
    expect(env).not.toContain('s3cret');
    expect(env).not.toContain('HTTP_COOKIE');
    expect(env).not.toContain('HTTP_PROXY');
  });
});
