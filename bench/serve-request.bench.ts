// Per-request cost of a service in Node: pack hello-web-db, import it, then time serveRequest
// (fresh instance, fresh upper, volume restored and committed) cold and warm.
import { readFile } from 'node:fs/promises';
import { MemoryContentStore, MemoryRecords, RecordTable } from '../runtime/content/index.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import { ImageStore, importLayout, layoutFiles, packImage } from '../runtime/images/index.ts';
import { nodeRunContext } from '../runtime/run/index.ts';
import { serveRequest, type ServiceRecord } from '../runtime/serve/index.ts';
import { percentile, type BenchRow } from './bench-table.ts';

export async function run(): Promise<BenchRow[]> {
  const wasm = new Uint8Array(await readFile(new URL('../examples/hello-web-db/hello-web-db.wasm', import.meta.url)));
  const packed = await packImage({ wasm, dirs: ['/data'] });
  const files = layoutFiles(packed.blobs, [{ name: 'bench/hello:1', manifest: packed.manifestDescriptor }]);
  const ctx = nodeRunContext({ content: new MemoryContentStore(), records: new MemoryRecords() });
  const t0 = performance.now();
  const [image] = await importLayout(new ImageStore(ctx), {
    read: async (p) => files.get(p) ?? Promise.reject(new RuntimeError('not-found', p)),
  });
  const importMs = performance.now() - t0;
  await ctx.records.table<ServiceRecord>(RecordTable.Services).put('hello', {
    name: 'hello',
    image: image.ref,
    imageDigest: image.digest,
    mode: 'raw',
    volumes: [{ name: 'v', path: '/data' }],
    created: 0,
  });
  const req = { method: 'GET', url: 'http://127.0.0.1/svc/hello/', headers: [] as [string, string][], body: null };
  const c0 = performance.now();
  const first = await serveRequest(ctx, 'hello', req);
  const coldMs = performance.now() - c0;
  if (first.status !== 200) throw new Error(`bench: hello answered ${first.status}`);
  const times: number[] = [];
  const N = 300;
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await serveRequest(ctx, 'hello', req);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  // The price of isolation: what a fresh instance costs against reusing one. A WASI command cannot
  // run twice in one instance, so the reuse side is the same request minus instantiation.
  const module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  const { Wasi } = await import('../runtime/wasi/index.ts');
  const inst: number[] = [];
  for (let i = 0; i < N; i++) {
    const w = new Wasi({ args: ['x'] });
    const s = performance.now();
    new WebAssembly.Instance(module, w.imports);
    inst.push(performance.now() - s);
  }
  inst.sort((a, b) => a - b);
  const b = 'hello-web-db request (Node, in memory)';
  return [
    { benchmark: b, subject: 'berth', metric: 'import layout (verify + unpack + index)', value: importMs, unit: 'ms' },
    { benchmark: b, subject: 'berth', metric: 'cold request (incl. compile)', value: coldMs, unit: 'ms' },
    {
      benchmark: b,
      subject: 'berth',
      metric: 'warm p50',
      value: percentile(times, 50),
      unit: 'ms',
      note: `${N} requests`,
    },
    {
      benchmark: b,
      subject: 'berth',
      metric: 'warm p99',
      value: percentile(times, 99),
      unit: 'ms',
      note: `${N} requests`,
    },
    {
      benchmark: b,
      subject: 'berth',
      metric: 'throughput',
      value: 1000 / (times.reduce((a, x) => a + x, 0) / N),
      unit: 'req/s',
      note: 'sequential',
    },
    {
      benchmark: b,
      subject: 'isolation cost',
      metric: 'fresh instance (instantiate + WASI context), p50',
      value: percentile(inst, 50),
      unit: 'ms',
      note: `${((100 * percentile(inst, 50)) / percentile(times, 50)).toFixed(0)}% of a warm request`,
    },
  ];
}
