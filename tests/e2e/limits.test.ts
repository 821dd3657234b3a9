// Limits in Chromium, on both paths: hostile programs (tests/fixtures/services/runaway.c) that loop
// in several shapes, sleep (once, or in 1 us naps), grow memory without calling out or print without end end with 504 or
// 502 within 1.5x their deadline, and one that writes a file without end meets ENOSPC at its files' limit, in the app window's worker pool and in the Service Worker with no
// window open; the next request is served normally. And exactly-once dispatch: 50 requests while
// the app window's main thread is blocked (too slow to accept) add exactly 50 to the counter.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berth } from '../integration/cli.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';
import { loadSetup, readAsItComes } from './service-helpers.ts';

const RUNAWAY = fileURLToPath(new URL('../fixtures/services/runaway.wasm', import.meta.url));
const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const HOG = fileURLToPath(new URL('../fixtures/services/hog.wasm', import.meta.url));
const DEADLINE_MS = 2000;

const SHAPES: [string, number, RegExp][] = [
  ['/leaf', 504, /did not finish within 2000 ms/],
  ['/indirect', 504, /did not finish within 2000 ms/],
  ['/recurse', 504, /did not finish within 2000 ms/],
  ['/sleep', 504, /did not finish within 2000 ms/],
  ['/naps', 504, /did not finish within 2000 ms/],
  ['/grow', 502, /its memory reached its limit of 16777216 bytes/],
  ['/print', 502, /was stopped without a valid HTTP response/],
  // Its files may hold 8 MiB: the writes past that fail, and the program answers.
  ['/fill', 200, /^filled [5-8] MiB: No space left on device\n$/],
];

async function timed(page: Page, path: string) {
  return page.evaluate(async (p) => {
    const t0 = performance.now();
    const r = await fetch(p);
    const text = await r.text();
    return { status: r.status, text, runner: r.headers.get('x-berth-runner'), ms: performance.now() - t0 };
  }, path);
}

describe('limits in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    // One setup archive: the hostile image with tight limits, and a trusted counter page for a tab
    // that is not an app window.
    const dir = await mkdtemp(join(tmpdir(), 'berth-limits-'));
    const layout = join(dir, 'layout');
    expect((await berth(['pack', RUNAWAY, '-t', 'localhost/test/runaway:1', '--oci', layout])).code).toBe(0);
    expect((await berth(['pack', HELLO, '-t', 'localhost/test/hello:1', '--dir', '/data', '--oci', layout])).code).toBe(
      0,
    );
    expect((await berth(['pack', HOG, '-t', 'localhost/test/hog:1', '--oci', layout])).code).toBe(0);
    const limits = { timeoutMs: DEADLINE_MS, memoryBytes: 16 * 2 ** 20, outputBytes: 2 ** 20, filesBytes: 8 * 2 ** 20 };
    const services = [
      { name: 'runaway', image: 'localhost/test/runaway:1', limits },
      { name: 'side', image: 'localhost/test/hello:1', trusted: true, volumes: [{ name: 'side', path: '/data' }] },
      { name: 'printer', image: 'localhost/test/runaway:1', limits: { timeoutMs: 20_000, outputBytes: 2 ** 30 } },
      { name: 'stalled', image: 'localhost/test/runaway:1', limits: { timeoutMs: 3000, outputBytes: 64 * 2 ** 20 } },
    ];
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
    await loadSetup(page, layout, services);
    await page.waitForSelector('li[data-service="runaway"]');
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  it('in the worker pool, every runaway shape ends within 1.5x its limit, and the next request is served', async () => {
    for (const [path, status, message] of SHAPES) {
      const r = await timed(page, `/svc/runaway${path}`);
      expect({ path, status: r.status, runner: r.runner }).toEqual({ path, status, runner: 'worker' });
      expect(r.text).toMatch(message);
      expect(r.ms, path).toBeLessThan(1.5 * DEADLINE_MS);
      expect((await fetchText(page, '/svc/runaway/ok')).text).toBe('ok\n');
    }
  });

  it('with no app window, the Service Worker ends every runaway shape within 1.5x its limit', async () => {
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/side/`);
    await page.close();
    try {
      for (const [path, status, message] of SHAPES) {
        const r = await timed(tab, `/svc/runaway${path}`);
        expect({ path, status: r.status, runner: r.runner }).toEqual({ path, status, runner: 'service-worker' });
        expect(r.text).toMatch(message);
        expect(r.ms, path).toBeLessThan(1.5 * DEADLINE_MS);
        expect((await fetchText(tab, '/svc/runaway/ok')).text).toBe('ok\n');
      }
    } finally {
      page = await openApp(context, server.url);
      await tab.close();
    }
  });

  it("the images view's one-shot Run has a service's limits: a program that allocates without end stops at 256 MiB", async () => {
    await page.click('tr[data-ref="localhost/test/hog:1"] button[data-action="run"]');
    await page.waitForFunction(() => document.getElementById('run-output')?.textContent?.includes('[exit code'), null, {
      timeout: 60_000,
    });
    const out = (await page.textContent('#run-output'))!;
    expect(out).toMatch(/hog: malloc failed after 2[45]\d MiB/);
    expect(out).toContain('[exit code 1]');
  });

  it('runs each of 50 requests exactly once while the app window is too slow to accept them', async () => {
    const hits = (t: string) => Number(/hits=(\d+)/.exec(t)![1]);
    const before = hits((await fetchText(page, '/svc/hello-web-db/')).text);
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/side/`);
    const poolRuns = await page.evaluate(() => window.berth!.pool.runs);
    // Block the app window's main thread for 4 s: it cannot accept within the SW's 1.5 s.
    const blocked = page.evaluate(() => {
      const t = performance.now();
      while (performance.now() - t < 4000) {
        // busy
      }
    });
    const answers = await tab.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 100));
      const one = () => fetch('/svc/hello-web-db/').then((r) => `${r.status} ${r.headers.get('x-berth-runner')}`);
      return Promise.all(Array.from({ length: 50 }, one));
    });
    await blocked;
    expect(answers).toEqual(Array.from({ length: 50 }, () => '200 service-worker'));
    // Give the window time to read the offers it missed: each was withdrawn, so it runs none.
    await page.waitForTimeout(1000);
    expect(hits((await fetchText(page, '/svc/hello-web-db/')).text)).toBe(before + 51);
    expect(await page.evaluate(() => window.berth!.pool.runs)).toBe(poolRuns + 1);
    await tab.close();
  });

  /** Reads one chunk of /svc/printer/PATH, then goes away; the run-log entry of that request. */
  async function readOneThenLeave(
    from: Page,
    path: string,
    service = 'printer',
    stallMs = 0,
  ): Promise<{ status: number; durationMs: number; error?: string; runner: string }> {
    const t0 = Date.now();
    await from.evaluate(
      async ({ p, svc, stall }) => {
        const r = await fetch(`/svc/${svc}/${p}`);
        const reader = r.body!.getReader();
        await reader.read();
        await new Promise((ok) => setTimeout(ok, stall));
        await reader.cancel().catch(() => {});
      },
      { p: path, svc: service, stall: stallMs },
    );
    let entry: { status: number; durationMs: number; error?: string; runner: string; time: number } | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      await from.waitForTimeout(200);
      entry = await from.evaluate(
        async ({ since, svc }) => {
          const db = await new Promise<IDBDatabase>((ok, fail) => {
            const q = indexedDB.open('berth');
            q.onsuccess = () => ok(q.result);
            q.onerror = () => fail(q.error);
          });
          const all = await new Promise<unknown[]>((ok) => {
            const q = db.transaction('run-log').objectStore('run-log').getAll();
            q.onsuccess = () => ok(q.result);
          });
          db.close();
          type E = {
            service: string;
            time: number;
            status: number;
            durationMs: number;
            error?: string;
            runner: string;
          };
          return (all as E[]).find((e) => e.service === svc && e.time >= since);
        },
        { since: t0 - 50, svc: service },
      );
    }
    if (!entry) throw new Error('the run of the abandoned request was not logged within 10 s');
    return entry;
  }

  it('a client that goes away stops its run, in the worker pool and in the Service Worker', async () => {
    // In the pool: the window terminates the run's worker (its deadline is 20 s away). The pool
    // path has no backpressure, so the program here writes slowly (a fast one runs to its output cap).
    const pool = await readOneThenLeave(page, 'trickle');
    expect(pool).toMatchObject({ runner: 'worker', status: 499, error: 'the client went away; the run was stopped' });
    expect(pool.durationMs).toBeLessThan(10_000);
    // In the SW: the program waits in fd_write while its reader is behind, and the cancel ends it.
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/side/`);
    await page.close();
    try {
      const sw = await readOneThenLeave(tab, 'trickle');
      expect(sw).toMatchObject({ runner: 'service-worker', status: 200 });
      expect(sw.error).toContain('the client went away');
      expect(sw.durationMs).toBeLessThan(10_000);
      // The SW streams: the first line of a slow response arrives before the program ends.
      const streamed = await readAsItComes(tab, '/svc/clock-stream/');
      const seen = { parts: streamed.reads.map((r) => r.text), runner: streamed.runner };
      expect(seen.runner).toBe('service-worker');
      expect(seen.parts.at(-1)).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
      expect(seen.parts.find((p) => p.includes('tick 1'))).not.toContain('tick 5');
    } finally {
      page = await openApp(context, server.url);
      await tab.close();
    }
  });

  it('a client that keeps reading gets a long body whole: the waiting program is let go as it reads', async () => {
    // /flood writes far faster than a page reads, so the worker's program waits each time 2 MiB
    // are unconsumed, and only the SW's credits for what the client read let it go on. 24 MiB are
    // many such waits; had a credit gone missing, the read would stall until the 20 s deadline
    // and end short.
    const got = await page.evaluate(async () => {
      const r = await fetch('/svc/printer/flood');
      const reader = r.body!.getReader();
      let bytes = 0;
      while (bytes < 24 << 20) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
      }
      await reader.cancel().catch(() => {});
      return { bytes, runner: r.headers.get('x-berth-runner') };
    });
    expect(got.runner).toBe('worker');
    expect(got.bytes).toBeGreaterThanOrEqual(24 << 20);
  });

  it('a client that stops reading holds the program back: it waits, then meets its deadline, on both paths', async () => {
    // /flood writes without end; with no backpressure it would pass its 64 MiB output cap in well
    // under a second. A client that reads one chunk and then nothing for 4 s must leave it waiting
    // until its 3 s deadline instead.
    const pool = await readOneThenLeave(page, 'flood', 'stalled', 4000);
    expect(pool.runner).toBe('worker');
    expect(pool.error).toMatch(/did not finish within 3000 ms/);
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/side/`);
    await page.close();
    try {
      const sw = await readOneThenLeave(tab, 'flood', 'stalled', 4000);
      expect(sw.runner).toBe('service-worker');
      expect(sw.error).toMatch(/did not finish within 3000 ms/);
    } finally {
      page = await openApp(context, server.url);
      await tab.close();
    }
  });
});
