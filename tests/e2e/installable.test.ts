// The PWA is installable (Chromium's own installability check) and `berth serve` starts as the
// README says: it prints the URL it serves on.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

describe('installable PWA', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  beforeAll(async () => {
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  it('ships a Service Worker script without jco’s bindgen, which only the app’s workers run', async () => {
    // A default argument naming transpileComponent once pulled the bindgen (4.6 MB of base64 wasm)
    // into sw.js: a SW start after a browser restart took 102 ms, not 44 (bench/sw-start).
    const sw = await readFile(join('dist', 'sw.js'), 'utf8');
    expect(sw).not.toContain('data:application/wasm;base64');
    expect(sw.length).toBeLessThan(1024 * 1024);
  });

  it('has no installability errors and a manifest with 192 and 512 px icons, maskable too', async () => {
    const page = await openApp(context, server.url);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]')!;
      return (await fetch(link.href)).json();
    });
    const icons = manifest.icons as { sizes: string; purpose?: string; src: string }[];
    for (const size of ['192x192', '512x512']) {
      expect(icons.some((i) => i.sizes === size && (i.purpose ?? 'any').includes('any'))).toBe(true);
      expect(icons.some((i) => i.sizes === size && i.purpose?.includes('maskable'))).toBe(true);
    }
    for (const icon of icons) {
      const res = await page.evaluate(async (src) => {
        const r = await fetch(src);
        return { status: r.status, type: r.headers.get('content-type') };
      }, icon.src);
      expect(res).toEqual({ status: 200, type: 'image/png' });
    }
  });
});

describe('updates', () => {
  it('shows the reload banner when a new Service Worker takes over', async () => {
    const server = await serveDist();
    const profile = await newProfileDir();
    const context = await launch(profile);
    const swPath = join('dist', 'sw.js');
    const original = await readFile(swPath);
    try {
      const page = await openApp(context, server.url);
      expect(await page.isHidden('#update')).toBe(true);
      // A new build: the script's bytes change, so the browser installs it as an update.
      await writeFile(swPath, Buffer.concat([original, Buffer.from(`\n// update ${Date.now()}\n`)]));
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
      await page.waitForSelector('#update:not([hidden])', { timeout: 30_000 });
      expect(await page.textContent('#update')).toContain('berth was updated');
    } finally {
      await writeFile(swPath, original);
      await context.close();
      await server.close();
      await removeProfileDir(profile);
    }
  });
});

describe('berth serve', () => {
  it('prints the URL it serves on and serves the app there', async () => {
    const child = spawn(process.execPath, ['bin/berth.js', 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
          const m = /berth is serving on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`berth serve exited with ${code}: ${out}`)));
      });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>berth</title>');
    } finally {
      child.kill();
    }
  });
});
