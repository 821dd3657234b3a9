// /svc p50 in every engine installed (Chromium, Firefox ESR, WebKitGTK) through the same page API
// as the cross-engine e2e walk (tests/e2e/engines/): hello-web-db on the worker path (an app window
// open) and the in-SW path (no app window), beside each engine's own floors measured in the same
// run (bench/floor: a SW answering `new Response('x')`, and SW -> window -> worker -> back).
// Needs a build (`npm run build`). BERTH_ENGINES=firefox,webkit picks engines.
import { existsSync } from 'node:fs';
import { startServer } from '../cli/serve.ts';
import { newProfileDir, removeProfileDir } from '../tests/e2e/browser.ts';
import { type EnginePage, selectedEngines, waitForSelector } from '../tests/e2e/engines/index.ts';
import { percentile, type BenchRow } from './bench-table.ts';
import { startFloorSite } from './floor-site.ts';

const N = 100;

function measure(page: EnginePage, path: string): Promise<{ times: number[]; runner: string | null }> {
  return page.evaluate(
    async ({ path, n }) => {
      for (let i = 0; i < 20; i++) await (await fetch(path)).text(); // warm up
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        const r = await fetch(path);
        await r.text();
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        times.push(performance.now() - s);
      }
      const runner = (await fetch(path)).headers.get('x-berth-runner');
      return { times: times.sort((a, b) => a - b), runner };
    },
    { path, n: N },
  );
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench svc-engines: run `npm run build` first');
  const floor = await startFloorSite();
  const floorUrl = floor.url;
  const rows: BenchRow[] = [];
  try {
    for (const engine of selectedEngines()) {
      const missing = engine.missing();
      const b = `GET /svc/hello-web-db p50 in ${engine.name} (sequential, warm)`;
      if (missing) {
        rows.push({ benchmark: b, subject: 'not run', metric: '-', value: NaN, unit: '', note: `missing: ${missing}` });
        continue;
      }
      const server = await startServer({ distDir: 'dist', host: '127.0.0.1', port: 0 });
      const profile = await newProfileDir();
      const browser = await engine.launch(profile);
      try {
        const app = await browser.newPage();
        await app.goto(server.url);
        await waitForSelector(app, 'body[data-ready="true"]', 60_000);
        const worker = await measure(app, '/svc/hello-web-db');
        // The in-SW path, from a trusted service's page (an untrusted one is sandboxed: its fetches
        // do not reach the SW), with the app window closed.
        await app.evaluate(async () => {
          const table = window.berth!.ctx.records.table<Record<string, unknown>>('services');
          const echo = await table.get('wagi-echo');
          await table.put('echo-trusted', { ...echo, name: 'echo-trusted', trusted: true });
        });
        const svcPage = await browser.newPage();
        await svcPage.goto(`${server.url}svc/echo-trusted/`);
        await app.close();
        const inSw = await measure(svcPage, '/svc/hello-web-db');
        const floorPage = await browser.newPage();
        await floorPage.goto(floorUrl);
        await waitForSelector(floorPage, 'body[data-ready="true"]');
        const direct = await measure(floorPage, '/floor/direct');
        const relay = await measure(floorPage, '/floor/relay');
        const p50 = (m: { times: number[] }) => percentile(m.times, 50);
        rows.push(
          {
            benchmark: b,
            subject: 'worker path (app window open)',
            metric: 'p50',
            value: p50(worker),
            unit: 'ms',
            note: `${N} requests; ran in ${worker.runner}`,
          },
          {
            benchmark: b,
            subject: 'in-SW path (no app window)',
            metric: 'p50',
            value: p50(inSw),
            unit: 'ms',
            note: `ran in ${inSw.runner}`,
          },
          {
            benchmark: b,
            subject: 'floor: SW -> window -> worker -> back',
            metric: 'p50',
            value: p50(relay),
            unit: 'ms',
          },
          { benchmark: b, subject: 'floor: SW answers new Response()', metric: 'p50', value: p50(direct), unit: 'ms' },
          {
            benchmark: b,
            subject: 'worker path / its floor',
            metric: 'ratio of p50',
            value: p50(worker) / p50(relay),
            unit: 'x',
          },
          {
            benchmark: b,
            subject: 'in-SW path / its floor',
            metric: 'ratio of p50',
            value: p50(inSw) / p50(direct),
            unit: 'x',
          },
        );
      } finally {
        await browser.close();
        await server.close();
        await removeProfileDir(profile);
      }
    }
  } finally {
    floor.close();
  }
  return rows;
}
