// /svc request latency and throughput in Chromium through the Service Worker: the hello-web-db
// service (a fresh instance per request, its volume committed each time), on the worker path (an
// app window open) and the in-SW path (no app window). Needs a build (`npm run build`).
import { existsSync } from 'node:fs';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { percentile, type BenchRow } from './bench-table.ts';

const N = 200;

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench svc-chromium: run `npm run build` first');
  const server = await serveDist();
  const profile = await newProfileDir();
  const context = await launch(profile);
  const rows: BenchRow[] = [];
  try {
    const app = await openApp(context, server.url);
    const measure = (page: typeof app, path: string) =>
      page.evaluate(
        async ({ path, n }) => {
          for (let i = 0; i < 20; i++) await (await fetch(path)).text(); // warm up
          const times: number[] = [];
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            const s = performance.now();
            const r = await fetch(path);
            await r.text();
            if (r.status !== 200) throw new Error(`status ${r.status}`);
            times.push(performance.now() - s);
          }
          const total = performance.now() - t0;
          const runner = (await fetch(path)).headers.get('x-berth-runner');
          return { times: times.sort((a, b) => a - b), total, runner };
        },
        { path, n: N },
      );
    const report = (subject: string, m: Awaited<ReturnType<typeof measure>>) => {
      const b = 'GET /svc/hello-web-db in Chromium (sequential, warm)';
      rows.push({
        benchmark: b,
        subject,
        metric: 'p50',
        value: percentile(m.times, 50),
        unit: 'ms',
        note: `${N} requests; ran in ${m.runner}`,
      });
      rows.push({ benchmark: b, subject, metric: 'p99', value: percentile(m.times, 99), unit: 'ms' });
      rows.push({ benchmark: b, subject, metric: 'throughput', value: (N / m.total) * 1000, unit: 'req/s' });
    };
    report('worker path (app window open)', await measure(app, '/svc/hello-web-db'));
    // Concurrency: 8 requests in flight at a time.
    const conc = await app.evaluate(async () => {
      const t0 = performance.now();
      let done = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (done < 200) {
            done++;
            await (await fetch('/svc/wagi-echo/')).text();
          }
        }),
      );
      return (200 / (performance.now() - t0)) * 1000;
    });
    rows.push({
      benchmark: 'GET /svc/wagi-echo in Chromium, 8 in flight (no volume)',
      subject: 'worker path',
      metric: 'throughput',
      value: conc,
      unit: 'req/s',
    });
    // In-SW path: close the app window; measure from a page that is not an app window.
    const svcPage = await context.newPage();
    await svcPage.goto(`${server.url}svc/wagi-echo/`);
    await app.close();
    report('in-SW path (no app window)', await measure(svcPage, '/svc/hello-web-db'));
  } finally {
    await context.close();
    await server.close();
    await removeProfileDir(profile);
  }
  return rows;
}
