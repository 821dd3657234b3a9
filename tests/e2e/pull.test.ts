// Pulling with the PWA in Chromium from a real registry (Debian's docker-registry): with the
// progress bars moving, into IndexedDB, then running the pulled image in a worker. The registry
// sends CORS headers but fails auth preflights, so the authenticated pull goes through berth's
// registry proxy.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { MODULE_CACHE } from '../../runtime/run/module-cache.ts';
import { imageLayout, multiPlatformLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { launch, newProfileDir, openApp, pullInPage, removeProfileDir, serveDist } from './browser.ts';

describe('pull with the PWA', () => {
  let server: { url: string; close: () => Promise<void> };
  let open: TestRegistry;
  let locked: TestRegistry;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [open, locked] = await Promise.all([startRegistry(), startRegistry({ auth: 'token', anonymousPull: false })]);
    const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
    await imageLayout(dir, 'x:1', {
      files: [{ path: '/pad.bin', data: crypto.getRandomValues(new Uint8Array(60_000)) }],
    });
    await skopeoCopy(`oci:${dir}:x:1`, open, 'berth/hello:1');
    await skopeoCopy(`oci:${dir}:x:1`, locked, 'berth/private:1', { creds: 'alice:s3cret' });
    const multi = await mkdtemp(join(tmpdir(), 'berth-l-'));
    await multiPlatformLayout(multi, 'm:1', [{ os: 'linux', architecture: 'amd64' }]);
    await skopeoCopy(`oci:${multi}:m:1`, open, 'berth/linux:1', { all: true });
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await open?.stop();
    await locked?.stop();
    await removeProfileDir(profile);
  });

  it('pulls from a local registry with progress, lists the image and runs it', async () => {
    page = await openApp(context, server.url);
    // Record every value the overall progress bar takes.
    await page.evaluate(() => {
      (window as unknown as { seen: string[] }).seen = [];
      new MutationObserver(() => {
        const bar = document.querySelector('#pull-progress progress');
        if (bar)
          (window as unknown as { seen: string[] }).seen.push(
            `${bar.getAttribute('value')}/${bar.getAttribute('max')}`,
          );
      }).observe(document.getElementById('pull-progress')!, { childList: true, subtree: true });
    });
    const ref = `${open.host}/berth/hello:1`;
    const pulled = await pullInPage(page, ref);
    expect(pulled).toContain(`Pulled ${ref}`);
    expect(pulled).toContain('directly from the registry');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const fractions = seen.map((s) => s.split('/').map(Number)).map(([v, m]) => v / m);
    expect(fractions.some((f) => f > 0 && f < 1)).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    await page.waitForSelector(`tr[data-ref="${ref}"]`);
    await page.click(`tr[data-ref="${ref}"] button[data-action="run"]`);
    await page.waitForFunction(() => document.getElementById('run-output')?.textContent?.includes('exit code'));
    const out = await page.textContent('#run-output');
    expect(out).toContain('hello from wasm, hits=1');
    expect(out).toContain('[exit code 0]');
  });

  it('re-pulls a cached image from the store (one manifest request), and offline too', async () => {
    const ref = `${open.host}/berth/hello:1`;
    const again = await pullInPage(page, ref);
    expect(again).toContain(`Pulled ${ref}`);
    // One request: the tag's manifest, from the registry; config and layers were already stored.
    expect(await page.evaluate(() => window.berth?.registryLog)).toEqual([
      { path: '/v2/berth/hello/manifests/1', route: 'direct' },
    ]);
    await context.setOffline(true);
    try {
      const offline = await pullInPage(page, ref);
      expect(offline).toContain(`Pulled ${ref}`);
      expect(offline).toContain('from berth’s store (offline)');
      expect(await page.evaluate(() => window.berth?.registryLog)).toEqual([
        { path: '/v2/berth/hello/manifests/1', route: 'offline' },
      ]);
    } finally {
      await context.setOffline(false);
    }
  });

  it('pulls from a token-protected registry through the registry proxy, with credentials', async () => {
    const ref = `${locked.host}/berth/private:1`;
    expect(await pullInPage(page, ref)).toContain('(unauthenticated)');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const pulled = await pullInPage(page, ref, { user: 'alice', password: 's3cret' });
    expect(pulled).toContain(`Pulled ${ref}`);
    expect(pulled).toContain('through berth’s registry proxy');
    // Why, from the headers the proxy forwarded: this registry sends full CORS headers on its answers
    // but answers the authenticated preflight without them, which the message says rather than
    // "allows no cross-origin requests".
    expect(pulled).toContain(
      `the browser refused a cross-origin request to ${locked.host} although its CORS headers look allowed (a preflight, a redirect or an error answer without them)`,
    );
    expect(locked.tokenRequests.some((t) => t.authorization?.startsWith('Basic '))).toBe(true);
  });

  it('remembers credentials for a registry only when asked, and forgets them when a pull with the box clear works', async () => {
    const ref = `${locked.host}/berth/private:1`;
    const again = async (creds?: { user: string; password: string; remember?: boolean }) => {
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      return pullInPage(page, ref, creds);
    };
    // Not asked: nothing kept, so a pull without credentials is refused.
    expect(await again({ user: 'alice', password: 's3cret' })).toContain(`Pulled ${ref}`);
    expect(await again()).toContain('(unauthenticated)');
    // A wrong password with the box ticked is not kept either.
    expect(await again({ user: 'alice', password: 'nope', remember: true })).toContain('(unauthenticated)');
    expect(await again()).toContain('(unauthenticated)');
    // Asked, after a pull that worked: used without asking.
    expect(await again({ user: 'alice', password: 's3cret', remember: true })).toContain(`Pulled ${ref}`);
    expect(await again()).toContain(`Pulled ${ref}`);
    // A pull with the box clear forgets them.
    expect(await again({ user: 'alice', password: 's3cret' })).toContain(`Pulled ${ref}`);
    expect(await again()).toContain('(unauthenticated)');
  });

  it('says which platforms an image offers when none is wasm, and stores nothing', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const text = await pullInPage(page, `${open.host}/berth/linux:1`);
    expect(text).toContain('linux/amd64');
    expect(text).toContain('(not-found)');
    expect(await page.$(`tr[data-ref="${open.host}/berth/linux:1"]`)).toBeNull();
  });

  it('removes an image and reports the space freed', async () => {
    const ref = `${open.host}/berth/hello:1`;
    await page.click(`tr[data-ref="${ref}"] button[data-action="remove"]`);
    await page.waitForFunction((r) => !document.querySelector(`tr[data-ref="${r}"]`), ref);
    expect(await page.textContent('#status')).toMatch(/freed \d/);
    // The seed image stays.
    expect(await page.textContent('#images')).toContain('localhost/berth/hello-web-db:latest');
  });

  // A module compiled for an image is kept in the Cache API (metered, for restarts); removing the
  // last reference to the image deletes it too, and leaves other images' modules.
  it("deletes an image's compiled modules with its last reference", async () => {
    const seed = 'localhost/berth/hello-web-db:latest';
    const priv = `${locked.host}/berth/private:1`;
    const run = async (r: string) => {
      await page.evaluate(() => (document.getElementById('run-output')!.textContent = ''));
      await page.click(`tr[data-ref="${r}"] button[data-action="run"]`);
      await page.waitForFunction(() => document.getElementById('run-output')?.textContent?.includes('[exit code'));
    };
    const digestOf = (r: string) =>
      page.evaluate(
        async (x) =>
          (
            await (
              window as unknown as { berth: { ctx: { images: { require(r: string): Promise<{ digest: string }> } } } }
            ).berth.ctx.images.require(x)
          ).digest,
        r,
      );
    /** The kept modules' keys that name `digest`. */
    const kept = (digest: string) =>
      page.evaluate(
        async ({ name, d }) =>
          (await (await caches.open(name)).keys())
            .map((q) => decodeURIComponent(new URL(q.url).pathname))
            .filter((k) => k.includes(d)),
        { name: MODULE_CACHE, d: digest },
      );
    await run(seed);
    await run(priv);
    const [seedDigest, privDigest] = [await digestOf(seed), await digestOf(priv)];
    expect(await kept(seedDigest)).toHaveLength(1);
    expect(await kept(privDigest)).toHaveLength(1);
    await page.click(`tr[data-ref="${priv}"] button[data-action="remove"]`);
    await page.waitForFunction((r) => !document.querySelector(`tr[data-ref="${r}"]`), priv);
    await expect.poll(() => kept(privDigest)).toEqual([]);
    expect(await kept(seedDigest)).toHaveLength(1);
  });
});
