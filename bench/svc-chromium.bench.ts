// /svc request latency and throughput in Chromium through the Service Worker: the hello-web-db
// service (a fresh instance per request, its volume committed each time), on the worker path (an
// app window open) and the in-SW path (no app window), beside the platform's floors measured in
// the same browser (bench/floor: a SW answering `new Response('x')`, and a hop SW -> window ->
// dedicated worker -> back), with the ratios. Needs a build (`npm run build`).
import { existsSync } from 'node:fs';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { percentile, type BenchRow } from './bench-table.ts';
import { startFloorSite } from './floor-site.ts';

const N = 200;

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench svc-chromium: run `npm run build` first');
  const server = await serveDist();
  const profile = await newProfileDir();
  const context = await launch(profile);
  const rows: BenchRow[] = [];
  const floor = await startFloorSite();
  const floorUrl = floor.url;
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
    const echoSeq = await measure(app, '/svc/wagi-echo/');
    // Concurrency: 8 requests in flight at a time.
    const inFlight = (page: typeof app, path: string) =>
      page.evaluate(async (p) => {
        const t0 = performance.now();
        let done = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (done < 200) {
              done++;
              await (await fetch(p)).text();
            }
          }),
        );
        return (200 / (performance.now() - t0)) * 1000;
      }, path);
    const conc = await inFlight(app, '/svc/wagi-echo/');
    rows.push({
      benchmark: 'GET /svc/wagi-echo in Chromium, 8 in flight (no volume)',
      subject: 'worker path',
      metric: 'throughput',
      value: conc,
      unit: 'req/s',
    });
    // In-SW path: close the app window; measure from a page that is not an app window (a trusted
    // service's page: an untrusted one is sandboxed and its fetches do not reach the SW).
    await app.evaluate(async () => {
      const table = window.berth!.ctx.records.table<Record<string, unknown>>('services');
      const echo = await table.get('wagi-echo');
      await table.put('echo-trusted', { ...echo, name: 'echo-trusted', trusted: true });
    });
    const svcPage = await context.newPage();
    await svcPage.goto(`${server.url}svc/echo-trusted/`);
    await app.close();
    const inSw = await measure(svcPage, '/svc/hello-web-db');
    report('in-SW path (no app window)', inSw);

    const floorPage = await context.newPage();
    await floorPage.goto(floorUrl);
    await floorPage.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const direct = await measure(floorPage, '/floor/direct');
    const relay = await measure(floorPage, '/floor/relay');
    const relayConc = await inFlight(floorPage, '/floor/relay');
    const b = 'GET /svc/hello-web-db in Chromium (sequential, warm)';
    rows.push({
      benchmark: b,
      subject: 'floor: SW answers new Response()',
      metric: 'p50',
      value: percentile(direct.times, 50),
      unit: 'ms',
    });
    rows.push({
      benchmark: b,
      subject: 'floor: SW -> window -> worker -> back',
      metric: 'p50',
      value: percentile(relay.times, 50),
      unit: 'ms',
    });
    const p50 = (subject: string) => rows.find((r) => r.subject === subject && r.metric === 'p50')!.value;
    rows.push({
      benchmark: b,
      subject: 'worker path / its floor',
      metric: 'ratio of p50',
      value: p50('worker path (app window open)') / percentile(relay.times, 50),
      unit: 'x',
    });
    rows.push({
      benchmark: b,
      subject: 'in-SW path / its floor',
      metric: 'ratio of p50',
      value: percentile(inSw.times, 50) / percentile(direct.times, 50),
      unit: 'x',
    });
    rows.push({
      benchmark: 'GET /svc/wagi-echo in Chromium, 8 in flight (no volume)',
      subject: 'worker path: 8 in flight / sequential',
      metric: 'ratio of throughput',
      value: conc / ((N / echoSeq.total) * 1000),
      unit: 'x',
    });
    // The same ratio for the floor's hop, which runs nothing: what the SW and the window's main
    // thread allow on this machine when only messages cross.
    rows.push({
      benchmark: 'GET /svc/wagi-echo in Chromium, 8 in flight (no volume)',
      subject: 'floor: SW -> window -> worker -> back, 8 in flight / sequential',
      metric: 'ratio of throughput',
      value: relayConc / ((N / relay.total) * 1000),
      unit: 'x',
      note: `${Math.round(relayConc)} req/s in flight`,
    });
  } finally {
    floor.close();
    await context.close();
    await server.close();
    await removeProfileDir(profile);
  }
  return rows;
}
