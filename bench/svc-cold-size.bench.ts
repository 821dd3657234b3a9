// Cold request by image size in Chromium, on both /svc paths: the same program (readfile.c, which
// reads 16 bytes of /srv/big.bin) in an image with a 1 MB file and one with a 200 MB file. Each
// measurement is the first request after a browser restart, so nothing of the image is in memory:
// the worker path reads file bytes on demand with FileReaderSync, the SW path (no app window) with
// JSPI in 1 MiB chunks. Needs a build (`npm run build`).
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { loadSetup } from '../tests/e2e/service-helpers.ts';
import { berth } from '../tests/integration/cli.ts';
import { percentile, type BenchRow } from './bench-table.ts';

const B = 'cold /svc request by image size (first after a browser restart)';
const SIZES = { small: 2 ** 20, large: 200 * 2 ** 20 } as const;
const RUNS = 5;

async function timed(page: Page, path: string): Promise<{ ms: number; runner: string | null }> {
  return page.evaluate(async (p) => {
    const t0 = performance.now();
    const r = await fetch(p);
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${p}: ${r.status} ${text}`);
    return { ms: performance.now() - t0, runner: r.headers.get('x-berth-runner') };
  }, path);
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench svc-cold-size: run `npm run build` first');
  const dir = await mkdtemp(join(tmpdir(), 'berth-cold-'));
  const layout = join(dir, 'layout');
  for (const [name, size] of Object.entries(SIZES)) {
    const file = join(dir, `${name}.bin`);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) bytes[i] = i & 0xff;
    await writeFile(file, bytes);
    const r = await berth([
      'pack',
      'tests/fixtures/services/readfile.wasm',
      '-t',
      `localhost/bench/${name}:1`,
      '--add',
      `${file}:/srv/big.bin`,
      '--oci',
      layout,
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  await berth(['pack', 'examples/hello-web-db/hello-web-db.wasm', '-t', 'localhost/bench/side:1', '--oci', layout]);
  const services = [
    ...Object.keys(SIZES).map((name) => ({ name, image: `localhost/bench/${name}:1` })),
    { name: 'side', image: 'localhost/bench/side:1', trusted: true },
  ];
  const server = await serveDist();
  const profile = await newProfileDir();
  let context: BrowserContext | undefined;
  const rows: BenchRow[] = [];
  try {
    context = await launch(profile);
    const app = await openApp(context, server.url);
    await loadSetup(app, layout, services, 300_000);
    // Compile once (the module cache survives restarts; what is measured is the image's bytes).
    for (const name of Object.keys(SIZES)) await timed(app, `/svc/${name}/0`);
    for (const path of ['worker', 'service-worker'] as const) {
      const times: Record<string, number[]> = { small: [], large: [] };
      for (let i = 0; i < RUNS; i++) {
        for (const name of Object.keys(SIZES)) {
          await context.close();
          context = await launch(profile);
          let page: Page;
          if (path === 'worker') page = await openApp(context, server.url);
          else {
            page = await context.newPage();
            await page.goto(`${server.url}svc/side/`);
          }
          const offset = SIZES[name as keyof typeof SIZES] - 100;
          const r = await timed(page, `/svc/${name}/${offset}`);
          if (r.runner !== path) throw new Error(`expected the ${path} path, ran in ${r.runner}`);
          times[name].push(r.ms);
        }
      }
      const med = (a: number[]) =>
        percentile(
          [...a].sort((x, y) => x - y),
          50,
        );
      const subject = path === 'worker' ? 'worker path' : 'in-SW path (no app window)';
      rows.push({
        benchmark: B,
        subject,
        metric: '1 MB image, median',
        value: med(times.small),
        unit: 'ms',
        note: `${RUNS} restarts`,
      });
      rows.push({
        benchmark: B,
        subject,
        metric: '200 MB image, median',
        value: med(times.large),
        unit: 'ms',
        note: `${RUNS} restarts`,
      });
      rows.push({
        benchmark: B,
        subject,
        metric: 'ratio 200 MB / 1 MB',
        value: med(times.large) / med(times.small),
        unit: 'x',
      });
    }
  } finally {
    await context?.close();
    await server.close();
    await removeProfileDir(profile);
  }
  return rows;
}
