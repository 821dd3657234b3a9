// The Service Worker's start after a browser restart, in Chromium: a tab opens a /svc page first
// thing, so the SW must start before it sees the request. Read from the navigation's own timing
// (PerformanceNavigationTiming: workerStart to fetchStart is the SW's start, script evaluation
// included), and the whole navigation to the service's answer. The floor is a minimal SW of our own
// (bench/floor) started the same way in the same browser. Needs a build (`npm run build`).
import { existsSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { median, type BenchRow } from './bench-table.ts';
import { startFloorSite } from './floor-site.ts';

const B = 'Service Worker start after a browser restart (a tab opens a page the SW answers)';
const RESTARTS = 5;

interface Nav {
  swStart: number;
  total: number;
}

async function navigate(context: BrowserContext, url: string): Promise<Nav> {
  const page = await context.newPage();
  await page.goto(url);
  const t = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { workerStart: n.workerStart, fetchStart: n.fetchStart, responseEnd: n.responseEnd, start: n.startTime };
  });
  await page.close();
  if (!t.workerStart) throw new Error(`${url}: no Service Worker started for the navigation`);
  return { swStart: t.fetchStart - t.workerStart, total: t.responseEnd - t.start };
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench sw-start: run `npm run build` first');
  const server = await serveDist();
  const floor = await startFloorSite();
  const profile = await newProfileDir();
  const berth: Nav[] = [];
  const bare: Nav[] = [];
  const size = Number((await (await fetch(`${server.url}sw.js`)).arrayBuffer()).byteLength);
  let context: BrowserContext | undefined;
  try {
    context = await launch(profile);
    const app = await openApp(context, server.url);
    // A trusted service's page is a page of berth's origin, answered by the SW.
    await app.evaluate(async () => {
      const table = window.berth!.ctx.records.table<Record<string, unknown>>('services');
      const echo = await table.get('wagi-echo');
      await table.put('echo-trusted', { ...echo, name: 'echo-trusted', trusted: true });
    });
    const floorPage = await context.newPage();
    await floorPage.goto(floor.url);
    await floorPage.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    // Registrations are written to disk a moment after they activate.
    await floorPage.waitForTimeout(2000);
    await context.close();
    for (let i = 0; i < RESTARTS; i++) {
      context = await launch(profile);
      // One SW per restart, alternating which goes first.
      const order = i % 2 ? ['floor', 'berth'] : ['berth', 'floor'];
      for (const which of order) {
        if (which === 'berth') berth.push(await navigate(context, `${server.url}svc/echo-trusted/`));
        // The floor SW answers this itself (`new Response('x')`): a navigation it lets through to
        // the network shows no workerStart in Chromium.
        else bare.push(await navigate(context, `${floor.url}floor/direct`));
      }
      await context.close();
      context = undefined;
    }
  } finally {
    await context?.close();
    floor.close();
    await server.close();
    await removeProfileDir(profile);
  }
  const note = `median of ${RESTARTS} restarts`;
  const berthStart = median(berth.map((n) => n.swStart));
  const floorStart = median(bare.map((n) => n.swStart));
  return [
    {
      benchmark: B,
      subject: 'berth: navigation to /svc/echo-trusted/',
      metric: 'SW start (workerStart to fetchStart)',
      value: berthStart,
      unit: 'ms',
      note: `${note}; sw.js ${(size / 1024).toFixed(0)} KiB`,
    },
    {
      benchmark: B,
      subject: 'berth: navigation to /svc/echo-trusted/',
      metric: 'navigation to the last byte of the answer',
      value: median(berth.map((n) => n.total)),
      unit: 'ms',
      note,
    },
    {
      benchmark: B,
      subject: 'floor: a minimal SW (bench/floor) answering /floor/direct',
      metric: 'SW start (workerStart to fetchStart)',
      value: floorStart,
      unit: 'ms',
      note,
    },
    {
      benchmark: B,
      subject: 'floor: a minimal SW (bench/floor) answering /floor/direct',
      metric: 'navigation to the last byte of the answer',
      value: median(bare.map((n) => n.total)),
      unit: 'ms',
      note,
    },
    { benchmark: B, subject: 'berth / floor', metric: 'ratio of SW start', value: berthStart / floorStart, unit: 'x' },
  ];
}
