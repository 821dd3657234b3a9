// A new user's path through berth, screen by screen, with a screenshot of each written to
// test-results/screenshots/: open the app, pull from a local registry (the progress bar moving),
// browse the image's files, create a service, open its URL, export the setup, clear storage,
// import the setup, go offline, reload, use the service.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { imageLayout } from '../support/layouts.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

const SCREENSHOTS = join('test-results', 'screenshots');

describe('a new user', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let ref = '';
  let setupFile = '';
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    reg = await startRegistry();
    const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
    await imageLayout(dir, 'x:1', {
      files: [
        { path: '/srv/www/index.html', data: new TextEncoder().encode('<h1>hi</h1>') },
        { path: '/srv/pad.bin', data: new Uint8Array(300_000).map((_, i) => (i * 7919) % 251) },
        // A name that reads as `reportexe.txt` where U+202E is obeyed.
        { path: '/srv/report\u202etxt.exe', data: new TextEncoder().encode('MZ') },
      ],
    });
    await skopeoCopy(`oci:${dir}:x:1`, reg, 'team/counter:1');
    // A slow link, so the progress bar is seen moving.
    proxy = await startFaultProxy(reg.url);
    proxy.rules.push({ match: (r) => r.url!.includes('/blobs/'), times: 100, delayMs: 15 });
    ref = `${proxy.host}/team/counter:1`;
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await proxy?.close();
    await reg?.stop();
    await removeProfileDir(profile);
  });

  it('opens the app and sees the example images and services', async () => {
    page = await openApp(context, server.url);
    await page.setViewportSize({ width: 1100, height: 900 });
    expect(await page.textContent('#images')).toContain('localhost/berth/hello-web-db:latest');
    expect(await page.textContent('#network')).toBe('online');
    // main.ts measures its first render of the stored state (ms since navigation start).
    const firstRenderMs = await page.evaluate(() => window.__berthFirstRenderMs);
    expect(firstRenderMs).toBeGreaterThan(0);
    console.log(`first render: ${firstRenderMs} ms after navigation start`);
    await shot('01-first-open');
  });

  it('pulls an image with the progress bar moving', async () => {
    await page.fill('input[name="ref"]', ref);
    await page.click('#pull-form button[type="submit"]');
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('#pull-progress progress');
        return (
          bar &&
          Number(bar.getAttribute('value')) > 0 &&
          Number(bar.getAttribute('value')) < Number(bar.getAttribute('max'))
        );
      },
      undefined,
      { timeout: 30_000 },
    );
    await shot('02-pulling');
    await page.waitForSelector(`tr[data-ref="${ref}"]`, { timeout: 60_000 });
    await shot('03-pulled');
  });

  it('browses the image’s files', async () => {
    await page.click(`tr[data-ref="${ref}"] button[data-action="files"]`);
    await page.waitForSelector('#files:not([hidden]) ul.files');
    await page.click('#files summary:has-text("srv/")');
    await page.waitForSelector('#files li:has-text("pad.bin")');
    expect(await page.textContent('#files')).toContain('app.wasm');
    // The image's names are shown with reordering characters written out.
    const files = (await page.textContent('#files')) ?? '';
    expect(files).toContain('report\\u{202e}txt.exe');
    expect(files).not.toContain('\u202e');
    await shot('04-files');
  });

  it('creates a service and opens its URL', async () => {
    await page.evaluate(() => ((document.getElementById('new-service') as HTMLDetailsElement).open = true));
    await page.fill('#service-form input[name="name"]', 'counter');
    await page.selectOption('#service-form select[name="image"]', ref);
    await page.fill('#service-form input[name="volumes"]', 'counter-data:/data');
    await page.click('#service-form button[type="submit"]');
    await page.waitForSelector('li[data-service="counter"]');
    await shot('05-service-created');
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/counter/`);
    expect(await tab.textContent('body')).toBe('hello from wasm, hits=1\n');
    await tab.screenshot({ path: join(SCREENSHOTS, '06-service-url.png') });
    await tab.close();
  });

  it('runs the pulled image in the terminal, typing its request live', async () => {
    await page.selectOption('#terminal-form select[name="image"]', ref);
    await page.click('#terminal-form button[type="submit"]');
    await page.waitForSelector('#terminal-section[data-running="true"]');
    await page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'));
    await page.keyboard.type('GET / HTTP/1.1');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+D');
    await page.waitForSelector('#terminal-section[data-running="false"][data-exit-code="0"]', { timeout: 20_000 });
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#terminal .xterm-rows > div')).some((r) =>
        (r.textContent ?? '').includes('hello from wasm, hits='),
      ),
    );
    await page.locator('#terminal-section').scrollIntoViewIfNeeded();
    await shot('06b-terminal');
  });

  it('exports the setup, clears storage, and imports it again', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-setup')]);
    setupFile = join(await mkdtemp(join(tmpdir(), 'berth-setup-')), download.suggestedFilename());
    await download.saveAs(setupFile);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(server.url).origin, storageTypes: 'all' });
    await cdp.detach();
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    expect(await page.$(`tr[data-ref="${ref}"]`)).toBeNull();
    expect(await page.$('li[data-service="counter"]')).toBeNull();
    await shot('07-cleared');
    await page.setInputFiles('#load-input', setupFile);
    await page.waitForFunction(
      () => document.getElementById('load-status')?.textContent?.startsWith('Loaded'),
      undefined,
      { timeout: 60_000 },
    );
    await page.waitForSelector('li[data-service="counter"]');
    await shot('08-imported');
  });

  it('goes offline, reloads, and uses the service', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.textContent('#network')).toBe('offline');
      // Really offline: what the SW does not serve fails.
      expect(
        await page.evaluate(() =>
          fetch(`/not-cached-${Math.random()}`).then(
            () => 'reached',
            () => 'failed',
          ),
        ),
      ).toBe('failed');
      const r = await fetchText(page, '/svc/counter/');
      expect(r.text).toBe('hello from wasm, hits=1\n');
      await page.click('li[data-service="counter"] button[data-action="request"]');
      await page.waitForFunction(() =>
        document.querySelector('li[data-service="counter"] pre.response')?.textContent?.includes('hits=2'),
      );
      await shot('09-offline');
    } finally {
      await context.setOffline(false);
    }
  });
});
