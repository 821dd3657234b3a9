// Per-request cost of a wasi:http handler component: the hello handler of
// tests/fixtures/components/http (ComponentizeJS, ~13 MB with its JS engine), a fresh instance per
// request, served by berth in Node (in process, and over HTTP by `berth serve`) and in Chromium (an
// app window's worker, and the Service Worker itself), beside `jco serve` (jco's own Node server over
// preview2-shim) serving the same component in the same run: the ratios are to jco serve's p50.
// Needs a build (`npm run build`) and reaches the npm registry once for jco (npx, then cached).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeRunContext } from '../runtime/run/index.ts';
import { serveRequest } from '../runtime/serve/index.ts';
import { openStore } from '../cli/store.ts';
import { nodeComponentLoader } from '../cli/component-loader.ts';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { loadSetup } from '../tests/e2e/service-helpers.ts';
import { berth, listeningBerth } from '../tests/integration/cli.ts';
import { percentile, type BenchRow } from './bench-table.ts';

const N = 100;
const HELLO = fileURLToPath(new URL('../tests/fixtures/components/hello-http.component.wasm', import.meta.url));
const EXPECTED = 'hello from a wasi:http component\n';

/** p50 and p99 of N sequential GETs of `url` after 10 to warm up. */
async function httpTimes(url: string): Promise<number[]> {
  for (let i = 0; i < 10; i++) await (await fetch(url)).text();
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    const text = await (await fetch(url)).text();
    times.push(performance.now() - s);
    if (text !== EXPECTED) throw new Error(`bench wasi-http: ${url} answered ${JSON.stringify(text.slice(0, 200))}`);
  }
  return times.sort((a, b) => a - b);
}

function jcoServe(port: number): Promise<ChildProcess> {
  const child = spawn('npx', ['--yes', '@bytecodealliance/jco@1.35.0', 'serve', '--port', String(port), HELLO], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let said = '';
    const look = (c: Buffer) => {
      said += c;
      if (/listening/i.test(said)) resolve(child);
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('close', (code) => reject(new Error(`jco serve ended (${code}): ${said}`)));
  });
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench wasi-http: run `npm run build` first');
  const rows: BenchRow[] = [];
  const b = 'GET of the hello wasi:http handler, p50 (sequential, warm, fresh instance each)';
  const add = (subject: string, times: number[], note?: string) => {
    rows.push({
      benchmark: b,
      subject,
      metric: 'p50',
      value: percentile(times, 50),
      unit: 'ms',
      ...(note ? { note } : {}),
    });
    rows.push({ benchmark: b, subject, metric: 'p99', value: percentile(times, 99), unit: 'ms' });
  };
  const children: ChildProcess[] = [];
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-wh-'));
  try {
    // jco serve, the reference. It keeps one instance for all requests, and a ComponentizeJS
    // handler responds once per instance (StarlingMonkey: "FetchEvent#respondWith can't be called
    // twice"), so it answers its first request only and later ones hang (measured with curl): its
    // figure is the first request of each of 7 fresh servers.
    const jco: number[] = [];
    for (let i = 0; i < 7; i++) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const child = await jcoServe(port);
      children.push(child);
      const s = performance.now();
      const text = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text();
      jco.push(performance.now() - s);
      if (text !== EXPECTED) throw new Error(`bench wasi-http: jco serve answered ${JSON.stringify(text)}`);
      child.kill();
    }
    jco.sort((x, y) => x - y);
    add(
      'jco serve (Node, preview2-shim): its one request',
      jco,
      'first request of 7 fresh servers (it serves no second)',
    );

    // berth in Node, in process, over the CLI's store (as `berth serve` reads it).
    const store = join(work, 'store');
    const cli = (args: string[]) => berth([...args, '--store', store]);
    if ((await cli(['pack', HELLO, '-t', 'localhost/bench/hello-http:1'])).code !== 0) throw new Error('pack failed');
    await cli(['service', 'create', 'hello', 'localhost/bench/hello-http:1']);
    const ctx = nodeRunContext(openStore(store), { components: nodeComponentLoader() });
    const req = { method: 'GET', url: 'http://127.0.0.1/svc/hello/', headers: [] as [string, string][], body: null };
    const c0 = performance.now();
    await serveRequest(ctx, 'hello', req);
    rows.push({
      benchmark: b,
      subject: 'berth in Node, in process',
      metric: 'first request (transpile + compile)',
      value: performance.now() - c0,
      unit: 'ms',
    });
    const inProcess: number[] = [];
    for (let i = 0; i < N; i++) {
      const s = performance.now();
      const r = await serveRequest(ctx, 'hello', req);
      inProcess.push(performance.now() - s);
      if (new TextDecoder().decode(r.body) !== EXPECTED) throw new Error('bench wasi-http: wrong answer in process');
    }
    add(
      'berth in Node, in process (serveRequest)',
      inProcess.sort((x, y) => x - y),
    );

    // berth serve, over HTTP like jco serve.
    const served = await listeningBerth(['serve', '--port', '0', '--store', store]);
    children.push(served.child);
    add('berth serve (Node, over HTTP)', await httpTimes(`${served.url}svc/hello/`));

    // Chromium: the image and a trusted service loaded through the page's archive input.
    const layout = join(work, 'layout');
    if ((await berth(['pack', HELLO, '-t', 'localhost/bench/hello-http:1', '--oci', layout])).code !== 0)
      throw new Error('pack --oci failed');
    const server = await serveDist();
    const profile = await newProfileDir();
    const context = await launch(profile);
    try {
      const app = await openApp(context, server.url);
      await loadSetup(app, layout, [{ name: 'hello-http', image: 'localhost/bench/hello-http:1', trusted: true }]);
      await app.waitForFunction(
        () => document.getElementById('load-status')?.textContent?.includes('Components ready'),
        undefined,
        {
          timeout: 120_000,
        },
      );
      const measure = (page: typeof app) =>
        page.evaluate(
          async ({ n, expected }) => {
            for (let i = 0; i < 10; i++) await (await fetch('/svc/hello-http/')).text();
            const times: number[] = [];
            let runner = '';
            for (let i = 0; i < n; i++) {
              const s = performance.now();
              const r = await fetch('/svc/hello-http/');
              const text = await r.text();
              times.push(performance.now() - s);
              if (text !== expected) throw new Error(`answered ${text.slice(0, 200)}`);
              runner = r.headers.get('x-berth-runner') ?? '';
            }
            return { times: times.sort((x, y) => x - y), runner };
          },
          { n: N, expected: EXPECTED },
        );
      const win = await measure(app);
      add('berth in Chromium, app window open', win.times, `ran in ${win.runner}`);
      const tab = await context.newPage();
      await tab.goto(`${server.url}svc/hello-http/`);
      await app.close();
      const sw = await measure(tab);
      add('berth in Chromium, no app window', sw.times, `ran in ${sw.runner}`);
    } finally {
      await context.close();
      await server.close();
      await removeProfileDir(profile);
    }
    const p50 = (subject: string) => rows.find((r) => r.subject === subject && r.metric === 'p50')!.value;
    const ref = percentile(jco, 50);
    for (const subject of [
      'berth in Node, in process (serveRequest)',
      'berth serve (Node, over HTTP)',
      'berth in Chromium, app window open',
      'berth in Chromium, no app window',
    ])
      rows.push({
        benchmark: b,
        subject: `${subject} / jco serve`,
        metric: 'ratio of p50',
        value: p50(subject) / ref,
        unit: 'x',
      });
  } finally {
    for (const c of children) c.kill();
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}
