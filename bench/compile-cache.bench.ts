// The first request after a browser restart against a warm one, for a large program (a generated
// C program of 6,000 functions, ~0.8 MB of wasm, built with clang), on both /svc paths. Compiled
// modules are kept in the Cache API and compiled with compileStreaming (runtime/run/module-cache.ts),
// so a restart costs neither the SW's deadline rewrite nor, past V8's threshold, a compile from
// scratch. Needs a build (`npm run build`) and clang.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { loadSetup } from '../tests/e2e/service-helpers.ts';
import { berth } from '../tests/integration/cli.ts';
import { median, type BenchRow } from './bench-table.ts';
import { startFloorSite } from './floor-site.ts';

const B = 'first /svc request after a browser restart (0.8 MB program)';
const FUNCTIONS = 6000;
/** Browser restarts per path: each gives one first request. */
const RESTARTS = 3;

function bigProgram(): string {
  const fns: string[] = [];
  for (let i = 0; i < FUNCTIONS; i++) {
    fns.push(
      `__attribute__((noinline)) unsigned f${i}(unsigned x) { x ^= ${(i * 2654435761) % 4294967291}u; ` +
        `x = x * ${i | 1}u + ${i * 7 + 3}u; if (x & ${2 ** (i % 31)}u) x = (x >> ${(i % 13) + 1}) ^ ${i * 31}u; ` +
        `else x += ${i * 17}u; for (unsigned k = 0; k < (x & 3); k++) x = x * 33u + k; return x ^ (x >> ${(i % 7) + 1}); }`,
    );
  }
  return `#include <stdio.h>
typedef unsigned (*fn)(unsigned);
${fns.join('\n')}
fn table[] = {${Array.from({ length: FUNCTIONS }, (_, i) => `f${i}`).join(',')}};
int main(void) {
  char line[256];
  if (!fgets(line, sizeof line, stdin)) return 1;
  unsigned h = 1;
  for (unsigned i = 0; i < sizeof table / sizeof *table; i++) h = table[i](h + i);
  char body[32];
  int len = snprintf(body, sizeof body, "big %08x\\n", h);
  printf("HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s", len, body);
  return 0;
}
`;
}

async function timed(page: Page, path: string): Promise<{ ms: number; runner: string | null }> {
  return page.evaluate(async (p) => {
    const t0 = performance.now();
    const r = await fetch(p);
    if (r.status !== 200) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    await r.text();
    return { ms: performance.now() - t0, runner: r.headers.get('x-berth-runner') };
  }, path);
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench compile-cache: run `npm run build` first');
  if (spawnSync('sh', ['-c', 'command -v clang']).status !== 0) {
    return [
      { benchmark: B, subject: 'not measured', metric: '-', value: 0, unit: '-', note: 'clang is not installed' },
    ];
  }
  const dir = await mkdtemp(join(tmpdir(), 'berth-big-'));
  await writeFile(join(dir, 'big.c'), bigProgram());
  execFileSync('clang', [
    '--target=wasm32-wasi',
    '-O1',
    '-Wl,--strip-all',
    join(dir, 'big.c'),
    '-o',
    join(dir, 'big.wasm'),
  ]);
  const layout = join(dir, 'layout');
  await berth(['pack', join(dir, 'big.wasm'), '-t', 'localhost/bench/big:1', '--oci', layout]);
  await berth(['pack', 'examples/hello-web-db/hello-web-db.wasm', '-t', 'localhost/bench/side:1', '--oci', layout]);
  const services = [
    { name: 'big', image: 'localhost/bench/big:1' },
    { name: 'side', image: 'localhost/bench/side:1', trusted: true },
  ];
  const server = await serveDist();
  const floor = await startFloorSite({ 'big.wasm': await readFile(join(dir, 'big.wasm')) });
  const floorRun = async (ctx: BrowserContext) => {
    const page = await ctx.newPage();
    await page.goto(`${floor.url}compile.html`);
    const run = () =>
      page.evaluate(async () => (window as unknown as { runOnce: () => Promise<{ ms: number }> }).runOnce());
    const first = (await run()).ms;
    const warm: number[] = [];
    for (let i = 0; i < 9; i++) warm.push((await run()).ms);
    await page.close();
    return { first, warm: median(warm) };
  };
  const profile = await newProfileDir();
  let context: BrowserContext | undefined;
  const rows: BenchRow[] = [];
  try {
    context = await launch(profile);
    let app = await openApp(context, server.url);
    await loadSetup(app, layout, services);
    const warmOf = async (page: Page, path: string) => {
      const warm: number[] = [];
      for (let i = 0; i < 9; i++) warm.push((await timed(page, path)).ms);
      return median(warm);
    };
    const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    const report = (subject: string, first: number[], warm: number[]) => {
      rows.push({
        benchmark: B,
        subject,
        metric: 'first request after restart',
        value: median(first),
        unit: 'ms',
        note: `median of ${first.length} restarts: ${list(first)}`,
      });
      rows.push({
        benchmark: B,
        subject,
        metric: 'warm request, median of 9',
        value: median(warm),
        unit: 'ms',
        note: `per restart: ${list(warm)}`,
      });
      rows.push({
        benchmark: B,
        subject,
        metric: 'ratio first / warm',
        value: median(first) / median(warm),
        unit: 'x',
      });
    };
    const cold = await timed(app, '/svc/big/');
    rows.push({
      benchmark: B,
      subject: 'worker path',
      metric: 'very first request (compiles)',
      value: cold.ms,
      unit: 'ms',
      note: `ran in ${cold.runner}`,
    });
    // The floor's program, compiled and run before the restart too (its code cache).
    await floorRun(context);
    // The SW's metered module, compiled once before the restart too.
    const side = await context.newPage();
    await side.goto(`${server.url}svc/side/`);
    await app.close();
    await timed(side, '/svc/big/');

    // Worker path, and the floor in the same restarted browser: V8 compiles a wasm function when it
    // is first called (lazy compilation), and a module from the code cache still compiles most of
    // them again then. One restart gives one first request, so there are RESTARTS of each.
    const worker = { first: [] as number[], warm: [] as number[] };
    const bare = { first: [] as number[], warm: [] as number[] };
    for (let r = 0; r < RESTARTS; r++) {
      await context.close();
      context = await launch(profile);
      app = await openApp(context, server.url);
      const first = await timed(app, '/svc/big/');
      if (first.runner !== 'worker') throw new Error(`expected the worker path, ran in ${first.runner}`);
      worker.first.push(first.ms);
      worker.warm.push(await warmOf(app, '/svc/big/'));
      const b = await floorRun(context);
      bare.first.push(b.first);
      bare.warm.push(b.warm);
    }
    report('worker path', worker.first, worker.warm);
    report(
      'floor: a bare page runs the module once (compileStreaming from the Cache API, WASI stub)',
      bare.first,
      bare.warm,
    );
    rows.push({
      benchmark: B,
      subject: 'worker path / floor',
      metric: 'first request after restart, ratio',
      value: median(worker.first) / median(bare.first),
      unit: 'x',
    });

    // In-SW path: no app window, a trusted page asks.
    const sw = { first: [] as number[], warm: [] as number[] };
    for (let r = 0; r < RESTARTS; r++) {
      await context.close();
      context = await launch(profile);
      const page = await context.newPage();
      await page.goto(`${server.url}svc/side/`);
      const first = await timed(page, '/svc/big/');
      if (first.runner !== 'service-worker') throw new Error(`expected the SW path, ran in ${first.runner}`);
      sw.first.push(first.ms);
      sw.warm.push(await warmOf(page, '/svc/big/'));
    }
    report('in-SW path', sw.first, sw.warm);
    rows.push({
      benchmark: B,
      subject: 'in-SW path / floor',
      metric: 'first request after restart, ratio',
      value: median(sw.first) / median(bare.first),
      unit: 'x',
    });
  } finally {
    floor.close();
    await context?.close();
    await server.close();
    await removeProfileDir(profile);
  }
  return rows;
}
