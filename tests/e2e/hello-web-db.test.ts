// The walking skeleton, end to end in Chromium: the pre-seeded hello-web-db image served at
// /svc/hello-web-db from the page, from a new tab, offline, and after the browser restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';
import { MODULE_CACHE } from '../../runtime/run/module-cache.ts';

describe('hello-web-db in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    server = await serveDist();
    profile = await newProfileDir();
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  it('shows the pre-seeded image and counts hits from the page and from a new tab', async () => {
    context = await launch(profile);
    const page = await openApp(context, server.url);
    expect(await page.textContent('#images')).toContain('localhost/berth/hello-web-db:latest');
    expect(await page.textContent('#images')).toContain('wasi/wasm');
    expect(await page.textContent('#services')).toContain('/svc/hello-web-db/');

    const first = await fetchText(page, '/svc/hello-web-db');
    expect(first).toEqual({ status: 200, text: 'hello from wasm, hits=1\n', runner: 'worker' });
    const second = await fetchText(page, '/svc/hello-web-db');
    expect(second.text).toBe('hello from wasm, hits=2\n');
    expect(
      await page.evaluate(() => (window as unknown as { berth: { pool: { runs: number } } }).berth.pool.runs),
    ).toBe(2);

    const tab = await context.newPage();
    const nav = await tab.goto(`${server.url}svc/hello-web-db`);
    expect(nav?.status()).toBe(200);
    expect(await tab.textContent('body')).toBe('hello from wasm, hits=3\n');
    expect(nav?.headers()['x-berth-runner']).toBe('worker');
    await tab.close();
  });

  it('keeps working offline: the app reloads and the service keeps counting', async () => {
    const page = context!.pages().find((p) => p.url() === server.url)!;
    await context!.setOffline(true);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(await page.textContent('#images')).toContain('localhost/berth/hello-web-db:latest');
    expect((await fetchText(page, '/svc/hello-web-db')).text).toBe('hello from wasm, hits=4\n');
    await context!.setOffline(false);
  });

  it('runs the instance in the Service Worker when no app window is open', async () => {
    for (const p of context!.pages()) await p.close();
    const tab = await context!.newPage();
    const nav = await tab.goto(`${server.url}svc/hello-web-db/`);
    expect(await tab.textContent('body')).toBe('hello from wasm, hits=5\n');
    expect(nav?.headers()['x-berth-runner']).toBe('service-worker');
    await tab.close();
  });

  it('keeps the counter after every tab is closed and the browser profile is reopened', async () => {
    await context!.close();
    context = await launch(profile);
    const page = await openApp(context, server.url);
    expect((await fetchText(page, '/svc/hello-web-db')).text).toBe('hello from wasm, hits=6\n');
    // The module compiled before the restart was kept (for the engine's code cache), metered for
    // deadlines: the one compilation the workers and the Service Worker share.
    const kept = await page.evaluate(
      async (name) => (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname),
      MODULE_CACHE,
    );
    // (Keys are JSON: the image's digest, the program's path, the memory cap.)
    expect(kept.filter((p) => decodeURIComponent(p).startsWith('/__berth/modules/metered/["sha256:'))).toHaveLength(1);
    expect(kept.filter((p) => p.startsWith('/__berth/modules/plain/'))).toEqual([]);
  });
});
