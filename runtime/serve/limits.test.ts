// Limits that hold whatever the program does, on the path with no worker to terminate (the Service
// Worker's run context: metered modules, sleeps bounded by the deadline): runaways of several
// shapes, a sleeper, a memory grower that never calls out and a program printing without end each
// end with 504 or 502 within 1.5x their deadline, and the next request is served normally.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../content/index.ts';
import { ImageStore, importLayout, layoutFiles, packImage, type LayoutReader } from '../images/index.ts';
import { RuntimeError } from '../core/index.ts';
import { serviceWorkerRunContext, type RunContext } from '../run/index.ts';
import { CollectingSink } from './response-parser.ts';
import { serveRequest, serveRequestTo } from './serve-request.ts';
import type { ServiceRecord } from './service-record.ts';

const DEADLINE_MS = 1000;
const dec = new TextDecoder();
const get = (path: string) => ({
  method: 'GET',
  url: `http://127.0.0.1/svc/runaway${path}`,
  headers: [] as [string, string][],
  body: null,
});

describe('limits on the no-window path', () => {
  let ctx: RunContext;
  beforeAll(async () => {
    ctx = serviceWorkerRunContext({ content: new MemoryContentStore(), records: new MemoryRecords() });
    const wasm = new Uint8Array(await readFile(new URL('../../tests/fixtures/services/runaway.wasm', import.meta.url)));
    const packed = await packImage({ wasm });
    const files = layoutFiles(packed.blobs, [
      { name: 'localhost/test/runaway:1', manifest: packed.manifestDescriptor },
    ]);
    const reader: LayoutReader = {
      read: async (p) => files.get(p) ?? Promise.reject(new RuntimeError('not-found', p)),
    };
    const [image] = await importLayout(new ImageStore(ctx), reader);
    await ctx.records.table<ServiceRecord>(RecordTable.Services).put('runaway', {
      name: 'runaway',
      image: image.ref,
      imageDigest: image.digest,
      mode: 'raw',
      volumes: [],
      limits: { timeoutMs: DEADLINE_MS, memoryBytes: 16 * 2 ** 20, outputBytes: 2 ** 20 },
      created: 0,
    });
  });

  const cases: [string, number, RegExp][] = [
    ['/leaf', 504, /did not finish within 1000 ms/],
    ['/indirect', 504, /did not finish within 1000 ms/],
    ['/nested', 504, /did not finish within 1000 ms/],
    ['/recurse', 504, /did not finish within 1000 ms/],
    ['/sleep', 504, /did not finish within 1000 ms/],
    ['/grow', 502, /trapped \(its memory reached its limit of 16777216 bytes\)/],
    // Output that cannot become a response stops the program at once, not at its output cap.
    ['/print', 502, /was stopped without a valid HTTP response: the response head is longer than 64 KiB/],
  ];
  for (const [path, status, message] of cases) {
    it(`${path}: ${status} within 1.5x the deadline, then the next request is served`, async () => {
      const t0 = performance.now();
      const r = await serveRequest(ctx, 'runaway', get(path));
      const ms = performance.now() - t0;
      expect(r.status, dec.decode(r.body)).toBe(status);
      expect(dec.decode(r.body)).toMatch(message);
      expect(ms).toBeLessThan(1.5 * DEADLINE_MS);
      const next = await serveRequest(ctx, 'runaway', get('/ok'));
      expect(next.status).toBe(200);
      expect(dec.decode(next.body)).toBe('ok\n');
    });
  }

  it('/flood: a body without end stops at the output cap, and the response is marked cut short', async () => {
    const sink = new CollectingSink();
    const summary = await serveRequestTo(ctx, 'runaway', get('/flood'), sink);
    expect(sink.received?.status).toBe(200);
    expect(summary).toMatchObject({ status: 200, aborted: true });
    expect(summary.error).toMatch(/the program wrote more than 1048576 bytes of output and was stopped/);
    expect(sink.bodyBytes().length).toBeLessThanOrEqual(2 ** 20);
  });
});
