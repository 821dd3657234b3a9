// The first request after a browser restart against a warm one, for a large program (a generated
// C program of 6,000 functions, ~0.8 MB of wasm, built with clang) in two shapes (see PROGRAMS),
// on both /svc paths, beside the floor of a bare page. Compiled
// modules are kept in the Cache API and compiled with compileStreaming (runtime/run/module-cache.ts),
// so a restart costs neither the SW's deadline rewrite nor, past V8's threshold, a compile from
// scratch. Needs a build (`npm run build`) and clang.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { loadSetup } from '../tests/e2e/service-helpers.ts';
import { transpileComponent } from '../runtime/component/index.ts';
import { berth } from '../tests/integration/cli.ts';
import { median, type BenchRow } from './bench-table.ts';
import { startFloorSite } from './floor-site.ts';

/** Browser restarts per path and program: each gives one first request. */
const RESTARTS = 3;
const FUNCTIONS = 6000;

interface Program {
  name: string;
  /** Passes of main over the program's functions per request. */
  passes: number;
  benchmark: string;
}

// Two shapes of one 0.8 MB program. Run once per request, each function is compiled on its first
// call and never becomes hot: V8's code cache keeps optimized code only, so every restart compiles
// all of them again, in berth and in the floor alike (the engine's worst case). Run 300 times per
// request, the functions become hot, their optimized code is cached, and a restart costs what is
// left: cold JS, the cache read, and the few functions still compiled lazily.
const PROGRAMS: Program[] = [
  {
    name: 'big',
    passes: 1,
    benchmark: 'first /svc request after a browser restart (0.8 MB program, each function called once)',
  },
  {
    name: 'busy',
    passes: 300,
    benchmark: 'first /svc request after a browser restart (the same program, 300 passes over its functions)',
  },
];

function programSource(passes: number): string {
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
  for (unsigned pass = 0; pass < ${passes}u; pass++)
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
    return PROGRAMS.map((p) => ({
      benchmark: p.benchmark,
      subject: 'not measured',
      metric: '-',
      value: 0,
      unit: '-',
      note: 'clang is not installed',
    }));
  }
  const dir = await mkdtemp(join(tmpdir(), 'berth-big-'));
  const layout = join(dir, 'layout');
  const wasm: Record<string, Uint8Array> = {};
  for (const p of PROGRAMS) {
    await writeFile(join(dir, `${p.name}.c`), programSource(p.passes));
    execFileSync('clang', [
      '--target=wasm32-wasi',
      '-O1',
      '-Wl,--strip-all',
      join(dir, `${p.name}.c`),
      '-o',
      join(dir, `${p.name}.wasm`),
    ]);
    wasm[`${p.name}.wasm`] = await readFile(join(dir, `${p.name}.wasm`));
    await berth(['pack', join(dir, `${p.name}.wasm`), '-t', `localhost/bench/${p.name}:1`, '--oci', layout]);
  }
  await berth(['pack', 'examples/hello-web-db/hello-web-db.wasm', '-t', 'localhost/bench/side:1', '--oci', layout]);
  const services = [
    ...PROGRAMS.map((p) => ({ name: p.name, image: `localhost/bench/${p.name}:1` })),
    { name: 'side', image: 'localhost/bench/side:1', trusted: true },
  ];
  const server = await serveDist();
  const floor = await startFloorSite(wasm);
  const floorRun = async (ctx: BrowserContext, p: Program) => {
    const page = await ctx.newPage();
    await page.goto(`${floor.url}compile.html?program=${p.name}.wasm`);
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
    const report = (p: Program, subject: string, first: number[], warm: number[]) => {
      rows.push({
        benchmark: p.benchmark,
        subject,
        metric: 'first request after restart',
        value: median(first),
        unit: 'ms',
        note: `median of ${first.length} restarts: ${list(first)}`,
      });
      rows.push({
        benchmark: p.benchmark,
        subject,
        metric: 'warm request, median of 9',
        value: median(warm),
        unit: 'ms',
        note: `per restart: ${list(warm)}`,
      });
      rows.push({
        benchmark: p.benchmark,
        subject,
        metric: 'ratio first / warm',
        value: median(first) / median(warm),
        unit: 'x',
      });
    };
    const restart = async () => {
      await context?.close();
      context = await launch(profile);
      return context;
    };

    const veryFirst = new Map<Program, { ms: number; runner: string | null }>();
    for (const p of PROGRAMS) {
      veryFirst.set(p, await timed(app, `/svc/${p.name}/`));
      // Warm requests before the restart, so that hot code is optimized and cached.
      await warmOf(app, `/svc/${p.name}/`);
      // The floor's program, compiled and run before the restart too (its code cache).
      await floorRun(context, p);
    }
    // The SW's metered modules, compiled and run before the restart too.
    const side = await context.newPage();
    await side.goto(`${server.url}svc/side/`);
    await app.close();
    for (const p of PROGRAMS) await warmOf(side, `/svc/${p.name}/`);

    for (const p of PROGRAMS) {
      const cold = veryFirst.get(p);
      if (cold) {
        rows.push({
          benchmark: p.benchmark,
          subject: 'worker path',
          metric: 'very first request (compiles)',
          value: cold.ms,
          unit: 'ms',
          note: `ran in ${cold.runner}`,
        });
      }
      // Worker path, and the floor in the same restarted browser. One restart gives one first
      // request, so there are RESTARTS of each.
      const worker = { first: [] as number[], warm: [] as number[] };
      const bare = { first: [] as number[], warm: [] as number[] };
      for (let r = 0; r < RESTARTS; r++) {
        app = await openApp(await restart(), server.url);
        const first = await timed(app, `/svc/${p.name}/`);
        if (first.runner !== 'worker') throw new Error(`expected the worker path, ran in ${first.runner}`);
        worker.first.push(first.ms);
        worker.warm.push(await warmOf(app, `/svc/${p.name}/`));
        const b = await floorRun(await restart(), p);
        bare.first.push(b.first);
        bare.warm.push(b.warm);
      }
      report(p, 'worker path', worker.first, worker.warm);
      report(
        p,
        'floor: a bare page runs the module once (compileStreaming from the Cache API, WASI stub)',
        bare.first,
        bare.warm,
      );
      rows.push({
        benchmark: p.benchmark,
        subject: 'worker path / floor',
        metric: 'first request after restart, ratio',
        value: median(worker.first) / median(bare.first),
        unit: 'x',
      });

      // In-SW path: no app window, a trusted page asks.
      const sw = { first: [] as number[], warm: [] as number[] };
      for (let r = 0; r < RESTARTS; r++) {
        const page = await (await restart()).newPage();
        await page.goto(`${server.url}svc/side/`);
        const first = await timed(page, `/svc/${p.name}/`);
        if (first.runner !== 'service-worker') throw new Error(`expected the SW path, ran in ${first.runner}`);
        sw.first.push(first.ms);
        sw.warm.push(await warmOf(page, `/svc/${p.name}/`));
      }
      report(p, 'in-SW path', sw.first, sw.warm);
      rows.push({
        benchmark: p.benchmark,
        subject: 'in-SW path / floor',
        metric: 'first request after restart, ratio',
        value: median(sw.first) / median(bare.first),
        unit: 'x',
      });
    }
  } finally {
    floor.close();
    await context?.close();
    await server.close();
    await removeProfileDir(profile);
  }
  rows.push(...(await componentRestarts()));
  return rows;
}

const COMPONENT = fileURLToPath(new URL('../tests/fixtures/components/hello-http.component.wasm', import.meta.url));
const COMPONENT_BENCH =
  'first /svc request after a browser restart (wasi:http handler, ComponentizeJS, 13 MB core module)';

/**
 * A large real program: the hello wasi:http handler (SpiderMonkey in its 13 MB core module). berth
 * keeps its core modules capped and metered in the Cache API when the service is created; a
 * restart compiles them from there. The floor compiles the same core module from a Cache API of its
 * own and instantiates it with no-op imports, running nothing (the glue and host are a runtime's).
 */
async function componentRestarts(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'berth-cc-'));
  const layout = join(dir, 'layout');
  await berth(['pack', COMPONENT, '-t', 'localhost/bench/hello-http:1', '--oci', layout]);
  await berth(['pack', 'examples/hello-web-db/hello-web-db.wasm', '-t', 'localhost/bench/side:1', '--oci', layout]);
  const core = (await transpileComponent(new Uint8Array(await readFile(COMPONENT)))).modules['component.core.wasm'];
  const server = await serveDist();
  const floor = await startFloorSite({ 'hello-core.wasm': core as Uint8Array });
  const profile = await newProfileDir();
  let context = await launch(profile);
  const restart = async () => {
    await context.close();
    context = await launch(profile);
    return context;
  };
  const path = '/svc/hello-http/';
  const warmOf = async (page: Page) => {
    const warm: number[] = [];
    for (let i = 0; i < 9; i++) warm.push((await timed(page, path)).ms);
    return median(warm);
  };
  const floorRun = async (ctx: BrowserContext) => {
    const page = await ctx.newPage();
    await page.goto(`${floor.url}compile.html?program=hello-core.wasm`);
    const once = () =>
      page.evaluate(async () =>
        (window as unknown as { instantiateOnce: () => Promise<{ ms: number }> }).instantiateOnce(),
      );
    const first = (await once()).ms;
    const warm: number[] = [];
    for (let i = 0; i < 9; i++) warm.push((await once()).ms);
    await page.close();
    return { first, warm: median(warm) };
  };
  const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
  const report = (subject: string, first: number[], warm: number[]) => {
    rows.push(
      {
        benchmark: COMPONENT_BENCH,
        subject,
        metric: 'first request after restart',
        value: median(first),
        unit: 'ms',
        note: `median of ${first.length} restarts: ${list(first)}`,
      },
      {
        benchmark: COMPONENT_BENCH,
        subject,
        metric: 'warm request, median of 9',
        value: median(warm),
        unit: 'ms',
        note: `per restart: ${list(warm)}`,
      },
      {
        benchmark: COMPONENT_BENCH,
        subject,
        metric: 'ratio first / warm',
        value: median(first) / median(warm),
        unit: 'x',
      },
    );
  };
  try {
    let app = await openApp(context, server.url);
    await loadSetup(app, layout, [
      { name: 'hello-http', image: 'localhost/bench/hello-http:1', trusted: true },
      { name: 'side', image: 'localhost/bench/side:1', trusted: true },
    ]);
    await app.waitForFunction(
      () => document.getElementById('load-status')?.textContent?.includes('Components ready'),
      undefined,
      { timeout: 120_000 },
    );
    const veryFirst = await timed(app, path);
    rows.push({
      benchmark: COMPONENT_BENCH,
      subject: 'worker path',
      metric: 'first request after the service was made (no restart)',
      value: veryFirst.ms,
      unit: 'ms',
      note: `ran in ${veryFirst.runner}`,
    });
    await warmOf(app);
    await floorRun(context);
    const side = await context.newPage();
    await side.goto(`${server.url}svc/side/`);
    await app.close();
    await warmOf(side);

    const worker = { first: [] as number[], warm: [] as number[] };
    const bare = { first: [] as number[], warm: [] as number[] };
    const sw = { first: [] as number[], warm: [] as number[] };
    for (let r = 0; r < RESTARTS; r++) {
      app = await openApp(await restart(), server.url);
      const first = await timed(app, path);
      if (first.runner !== 'worker') throw new Error(`expected the worker path, ran in ${first.runner}`);
      worker.first.push(first.ms);
      worker.warm.push(await warmOf(app));
      const page = await (await restart()).newPage();
      await page.goto(`${server.url}svc/side/`);
      const f = await timed(page, path);
      if (f.runner !== 'service-worker') throw new Error(`expected the SW path, ran in ${f.runner}`);
      sw.first.push(f.ms);
      sw.warm.push(await warmOf(page));
      const b = await floorRun(await restart());
      bare.first.push(b.first);
      bare.warm.push(b.warm);
    }
    report('worker path', worker.first, worker.warm);
    report('in-SW path', sw.first, sw.warm);
    report(
      'floor: a bare page compiles its core module (compileStreaming from the Cache API) and instantiates it',
      bare.first,
      bare.warm,
    );
    for (const [subject, xs] of [
      ['worker path', worker.first],
      ['in-SW path', sw.first],
    ] as const)
      rows.push({
        benchmark: COMPONENT_BENCH,
        subject: `${subject} / floor`,
        metric: 'first request after restart, ratio',
        value: median(xs) / median(bare.first),
        unit: 'x',
      });
  } finally {
    floor.close();
    await context.close();
    await server.close();
    await removeProfileDir(profile);
  }
  return rows;
}
