// /svc request latency and throughput in Chromium through the Service Worker, on the worker path
// (an app window open) and the in-SW path (no app window), for two services: wagi-echo (no volume)
// and hello-web-db (a fresh instance per request, its volume read and committed each time). Beside
// them, the platform's floors in the same browser (bench/floor): a SW answering `new Response('x')`
// and a hop SW -> window -> dedicated worker -> back (on new ports per request, and on standing
// ports: the faster is the floor), each also with the least a request to a volume needs (a record
// read in one IndexedDB transaction and written back in another). Berth and the floors are measured
// in alternation, ROUNDS times, and each p50 is the median of its rounds' p50s (this 2-core machine
// drifts by about a millisecond between minutes). Needs a build (`npm run build`).
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { median, type BenchRow } from './bench-table.ts';
import { startFloorSite } from './floor-site.ts';

const N = 200;
const ROUNDS = 3;
const SEQ = `GET /svc in Chromium, sequential, warm (p50 of ${N} requests, median of ${ROUNDS} rounds)`;
const CONC = 'GET /svc/wagi-echo in Chromium, 8 in flight';

interface Sample {
  p50: number;
  p99: number;
  rate: number;
  runner: string | null;
}

function measure(page: Page, path: string): Promise<Sample> {
  return page.evaluate(
    async ({ path, n }) => {
      for (let i = 0; i < 20; i++) await (await fetch(path)).text(); // warm up
      const times: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        const r = await fetch(path);
        await r.text();
        if (r.status !== 200) throw new Error(`${path}: status ${r.status}`);
        times.push(performance.now() - s);
      }
      const total = performance.now() - t0;
      // (No helper function in here: tsx would wrap it in a `__name` the page does not have.)
      times.sort((a, b) => a - b);
      const runner = (await fetch(path)).headers.get('x-berth-runner');
      return {
        p50: times[Math.ceil(0.5 * n) - 1],
        p99: times[Math.ceil(0.99 * n) - 1],
        rate: (n / total) * 1000,
        runner,
      };
    },
    { path, n: N },
  );
}

/**
 * Requests per second with 8 in flight at a time, after 32 not timed: every pooled worker has then
 * run jobs (sequential requests keep to one worker, so the others' first jobs would run cold
 * JavaScript inside the timing).
 */
function inFlight(page: Page, path: string): Promise<number> {
  return page.evaluate(async (p) => {
    // 32 requests untimed, then 200 timed: the rate is the last round's.
    let rate = 0;
    for (const n of [32, 200]) {
      const t0 = performance.now();
      let started = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (started < n) {
            started++;
            await (await fetch(p)).text();
          }
        }),
      );
      rate = (n / (performance.now() - t0)) * 1000;
    }
    return rate;
  }, path);
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench svc-chromium: run `npm run build` first');
  const server = await serveDist();
  const profile = await newProfileDir();
  const context = await launch(profile);
  const floor = await startFloorSite();
  const samples = new Map<string, Sample[]>();
  const take = async (key: string, page: Page, path: string) => {
    const s = await measure(page, path);
    samples.set(key, [...(samples.get(key) ?? []), s]);
    return s;
  };
  const rates = new Map<string, number[]>();
  const rate = async (key: string, page: Page, path: string) =>
    rates.set(key, [...(rates.get(key) ?? []), await inFlight(page, path)]);
  try {
    const app = await openApp(context, server.url);
    const floorPage = await context.newPage();
    await floorPage.goto(floor.url);
    await floorPage.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const floors = async () => {
      for (const f of ['direct', 'direct-db', 'relay', 'relay-db', 'relay-port', 'relay-port-db', 'worker-port'])
        await take(`floor ${f}`, floorPage, `/floor/${f}`);
    };

    for (let r = 0; r < ROUNDS; r++) {
      await take('worker wagi-echo', app, '/svc/wagi-echo/');
      await take('worker hello-web-db', app, '/svc/hello-web-db');
      await floors();
      await rate('worker wagi-echo', app, '/svc/wagi-echo/');
      await rate('floor relay-port', floorPage, '/floor/relay-port');
      await rate('floor worker-port', floorPage, '/floor/worker-port');
      await rate('floor direct', floorPage, '/floor/direct');
    }
    // The in-SW path: no app window; requests from a page that is not one (a trusted service's
    // page: an untrusted one is sandboxed and its fetches do not reach the SW).
    await app.evaluate(async () => {
      const table = window.berth!.ctx.records.table<Record<string, unknown>>('services');
      const echo = await table.get('wagi-echo');
      await table.put('echo-trusted', { ...echo, name: 'echo-trusted', trusted: true });
    });
    const svcPage = await context.newPage();
    await svcPage.goto(`${server.url}svc/echo-trusted/`);
    await app.close();
    for (let r = 0; r < ROUNDS; r++) {
      await take('sw wagi-echo', svcPage, '/svc/wagi-echo/');
      await take('sw hello-web-db', svcPage, '/svc/hello-web-db');
      await floors();
      await rate('sw wagi-echo', svcPage, '/svc/wagi-echo/');
      await rate('floor direct', floorPage, '/floor/direct');
    }
  } finally {
    floor.close();
    await context.close();
    await server.close();
    await removeProfileDir(profile);
  }

  const p50 = (key: string) => median(samples.get(key)!.map((s) => s.p50));
  const rows: BenchRow[] = [];
  const subjects: [string, string][] = [
    ['worker wagi-echo', 'worker path (app window open): wagi-echo'],
    ['worker hello-web-db', 'worker path: hello-web-db (volume)'],
    ['sw wagi-echo', 'in-SW path (no app window): wagi-echo'],
    ['sw hello-web-db', 'in-SW path: hello-web-db (volume)'],
  ];
  for (const [key, subject] of subjects) {
    const s = samples.get(key)!;
    const runners = [...new Set(s.map((x) => x.runner))].join(', ');
    const rounds = s.map((x) => x.p50.toFixed(1)).join(', ');
    rows.push({
      benchmark: SEQ,
      subject,
      metric: 'p50',
      value: p50(key),
      unit: 'ms',
      note: `ran in ${runners}; rounds ${rounds}`,
    });
    rows.push({ benchmark: SEQ, subject, metric: 'p99', value: median(s.map((x) => x.p99)), unit: 'ms' });
    rows.push({ benchmark: SEQ, subject, metric: 'throughput', value: median(s.map((x) => x.rate)), unit: 'req/s' });
  }
  const floorNames: [string, string][] = [
    ['floor direct', 'floor: SW answers new Response()'],
    ['floor direct-db', 'floor: SW reads a record, writes it back, answers'],
    ['floor relay', 'floor: SW -> window -> worker -> back, new ports per request'],
    ['floor relay-port', 'floor: SW -> window -> worker -> back, standing ports'],
    ['floor relay-db', 'floor: that hop (new ports), the worker reading and writing a record'],
    ['floor relay-port-db', 'floor: that hop (standing ports), the worker reading and writing a record'],
    ['floor worker-port', 'floor: SW -> worker -> back on a channel the window made (no main thread on the way)'],
  ];
  for (const [key, subject] of floorNames) {
    const rounds = samples
      .get(key)!
      .map((x) => x.p50.toFixed(1))
      .join(', ');
    rows.push({ benchmark: SEQ, subject, metric: 'p50', value: p50(key), unit: 'ms', note: `rounds ${rounds}` });
  }
  const relay = Math.min(p50('floor relay'), p50('floor relay-port'));
  const relayDb = Math.min(p50('floor relay-db'), p50('floor relay-port-db'));
  const ratio = (subject: string, value: number, note?: string) =>
    rows.push({ benchmark: SEQ, subject, metric: 'ratio of p50', value, unit: 'x', ...(note ? { note } : {}) });
  ratio('worker path, wagi-echo / the faster hop', p50('worker wagi-echo') / relay);
  ratio('worker path, hello-web-db / the faster hop with a record', p50('worker hello-web-db') / relayDb);
  ratio('worker path, hello-web-db / the faster hop', p50('worker hello-web-db') / relay, 'the floor of issue 13');
  ratio('in-SW path, wagi-echo / SW answering', p50('sw wagi-echo') / p50('floor direct'));
  ratio('in-SW path, hello-web-db / SW with a record', p50('sw hello-web-db') / p50('floor direct-db'));
  ratio(
    'in-SW path, hello-web-db / SW answering',
    p50('sw hello-web-db') / p50('floor direct'),
    'the floor of issue 13',
  );

  // Concurrency: the rate with 8 in flight against the sequential rate of the same requests, for
  // berth's two paths and for floors that run nothing: what the browser allows on this machine when
  // only messages cross (a SW answering at once is the ceiling of any SW path).
  const seqRate = (key: string) => median(samples.get(key)!.map((s) => s.rate));
  const concRows: [string, string, string][] = [
    ['worker wagi-echo', 'worker wagi-echo', 'worker path'],
    ['sw wagi-echo', 'sw wagi-echo', 'in-SW path (its runs share the SW thread)'],
    ['floor relay-port', 'floor relay-port', 'floor: SW -> window -> worker -> back (standing ports)'],
    ['floor worker-port', 'floor worker-port', 'floor: SW -> worker -> back (the window off the way)'],
    ['floor direct', 'floor direct', 'floor: SW answers new Response()'],
  ];
  for (const [rateKey, seqKey, subject] of concRows) {
    const all = rates.get(rateKey)!;
    const conc = median(all);
    rows.push({
      benchmark: CONC,
      subject: `${subject}: 8 in flight / sequential`,
      metric: 'ratio of throughput',
      value: conc / seqRate(seqKey),
      unit: 'x',
      note: `${Math.round(conc)} req/s in flight (rounds ${all.map((r) => Math.round(r)).join(', ')}), ${Math.round(seqRate(seqKey))} in sequence`,
    });
  }
  return rows;
}
