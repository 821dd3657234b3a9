// Limits in Chromium, on both paths: hostile programs (tests/fixtures/services/runaway.c) that loop
// in several shapes, sleep, grow memory without calling out or print without end end with 504 or
// 502 within 1.5x their deadline, in the app window's worker pool and in the Service Worker with no
// window open; the next request is served normally. And exactly-once dispatch: 50 requests while
// the app window's main thread is blocked (too slow to accept) add exactly 50 to the counter.
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berth } from '../integration/cli.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

const RUNAWAY = fileURLToPath(new URL('../fixtures/services/runaway.wasm', import.meta.url));
const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const DEADLINE_MS = 2000;

const SHAPES: [string, number, RegExp][] = [
  ['/leaf', 504, /did not finish within 2000 ms/],
  ['/indirect', 504, /did not finish within 2000 ms/],
  ['/recurse', 504, /did not finish within 2000 ms/],
  ['/sleep', 504, /did not finish within 2000 ms/],
  ['/grow', 502, /its memory reached its limit of 16777216 bytes/],
  ['/print', 502, /wrote more than 1048576 bytes of output/],
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
    const limits = { timeoutMs: DEADLINE_MS, memoryBytes: 16 * 2 ** 20, outputBytes: 2 ** 20 };
    const services = [
      { name: 'runaway', image: 'localhost/test/runaway:1', limits },
      { name: 'side', image: 'localhost/test/hello:1', trusted: true, volumes: [{ name: 'side', path: '/data' }] },
    ];
    await writeFile(join(layout, 'berth-setup.json'), JSON.stringify({ version: 1, services }));
    const tar = join(dir, 'setup.tar');
    execFileSync('tar', ['-C', layout, '-cf', tar, '.']);
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
    await page.setInputFiles('#load-input', tar);
    await page.waitForFunction(() => document.getElementById('load-status')?.textContent?.startsWith('Loaded'));
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
});
