// A pull in Chromium against the browser's floor, in one run: a 3-layer ~50 MB gzip image from a
// local docker-registry (CORS on, so the page reaches it directly), pulled by berth's page (fresh
// profile each run: download, verify, gunzip, store blob and tar in IndexedDB, index), against the
// floor measured in the same page: fetch each blob + crypto.subtle.digest + DecompressionStream
// (consumed chunk by chunk) + an IndexedDB Blob put. Also what the pull stored in IndexedDB (blobs,
// layer indexes and gzip seek indexes) against the image's compressed size. Needs a build
// (`npm run build`).
import { existsSync } from 'node:fs';
import { launch, newProfileDir, openApp, pullInPage, removeProfileDir, serveDist } from '../tests/e2e/browser.ts';
import { startRegistry } from '../tests/support/registry.ts';
import { median, type BenchRow } from './bench-table.ts';
import { pushImage, semiCompressible } from './pull.bench.ts';

const RUNS = 3;
const MB = 1 << 20;
const B = 'pull a 3-layer ~50 MB gzip image in Chromium (local registry, direct)';

export async function run(): Promise<BenchRow[]> {
  if (!existsSync('dist/index.html')) throw new Error('bench pull-chromium: run `npm run build` first');
  const reg = await startRegistry();
  const server = await serveDist();
  const rows: BenchRow[] = [];
  try {
    const image = await pushImage(
      reg,
      'bench/three:1',
      [0, 1, 2].map((l) =>
        Array.from({ length: 5 }, (_, i) => ({ path: `l${l}/part-${i}.bin`, data: semiCompressible(5 * MB) })),
      ),
    );
    const blobUrls = image.layers.map((d) => `http://${reg.host}/v2/bench/three/blobs/${d.digest}`);
    const berthTimes: number[] = [];
    const floorTimes: number[] = [];
    let storedBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const profile = await newProfileDir();
      const context = await launch(profile);
      try {
        const page = await openApp(context, server.url);
        const floor = await page.evaluate(async (urls) => {
          const db = await new Promise<IDBDatabase>((ok, fail) => {
            const q = indexedDB.open('floor', 1);
            q.onupgradeneeded = () => q.result.createObjectStore('blobs');
            q.onsuccess = () => ok(q.result);
            q.onerror = () => fail(q.error);
          });
          const t0 = performance.now();
          await Promise.all(
            urls.map(async (url, k) => {
              const buf = await (await fetch(url)).arrayBuffer();
              await crypto.subtle.digest('SHA-256', buf);
              const reader = new Blob([buf]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
              for (;;) if ((await reader.read()).done) break;
              await new Promise<void>((ok, fail) => {
                const tx = db.transaction('blobs', 'readwrite');
                tx.objectStore('blobs').put(new Blob([buf]), k);
                tx.oncomplete = () => ok();
                tx.onerror = () => fail(tx.error);
              });
            }),
          );
          return performance.now() - t0;
        }, blobUrls);
        floorTimes.push(floor);
        // Timed in the page, from the form's submit to the message that ends the pull (as the floor
        // is timed in the page): not the driver's fill, click and polling.
        await page.evaluate(`(() => {
          const form = document.getElementById('pull-form');
          const out = document.getElementById('pull-progress');
          window.__pullTiming = {};
          form.addEventListener('submit', () => { window.__pullTiming.start = performance.now(); }, { capture: true, once: true });
          new MutationObserver((_, obs) => {
            if (out.querySelector('p')) { window.__pullTiming.end = performance.now(); obs.disconnect(); }
          }).observe(out, { childList: true, subtree: true });
        })()`);
        const said = await pullInPage(page, image.ref);
        if (!said.includes('Pulled')) throw new Error(`the pull ended with: ${said}`);
        const timing = (await page.evaluate('window.__pullTiming')) as { start: number; end: number };
        berthTimes.push(timing.end - timing.start);
        // A string, not a function: tsx's keepNames would add `__name` calls the page lacks.
        storedBytes = await page.evaluate(`(async () => {
          const db = await new Promise((ok, fail) => {
            const q = indexedDB.open('berth');
            q.onsuccess = () => ok(q.result);
            q.onerror = () => fail(q.error);
          });
          const all = (table) => new Promise((ok, fail) => {
            const q = db.transaction(table).objectStore(table).getAll();
            q.onsuccess = () => ok(q.result);
            q.onerror = () => fail(q.error);
          });
          let bytes = 0;
          for (const b of await all('blobs')) bytes += b.size;
          for (const r of await all('layer-indexes'))
            for (const v of Object.values(r)) if (v instanceof Uint8Array) bytes += v.length;
          db.close();
          return bytes;
        })()`);
      } finally {
        await context.close();
        await removeProfileDir(profile);
      }
    }
    const note = `median of ${RUNS}, a fresh profile each`;
    rows.push({
      benchmark: B,
      subject: 'berth (the page pull form, submit to "Pulled")',
      metric: 'time',
      value: median(berthTimes),
      unit: 'ms',
      note,
    });
    rows.push({
      benchmark: B,
      subject: 'floor: fetch + crypto.subtle.digest + DecompressionStream + IndexedDB Blob put',
      metric: 'time',
      value: median(floorTimes),
      unit: 'ms',
      note,
    });
    rows.push({
      benchmark: B,
      subject: 'berth / floor',
      metric: 'time ratio',
      value: median(berthTimes) / median(floorTimes),
      unit: 'x',
      note: 'goal <= 1.5',
    });
    rows.push({
      benchmark: B,
      subject: 'stored in IndexedDB (blobs + layer and seek indexes) / compressed image size',
      metric: 'size ratio',
      value: storedBytes / image.size,
      unit: 'x',
      note: `${(storedBytes / MB).toFixed(1)} MiB for ${(image.size / MB).toFixed(1)} MiB; goal <= 1.3`,
    });
  } finally {
    await server.close();
    await reg.stop();
  }
  return rows;
}
