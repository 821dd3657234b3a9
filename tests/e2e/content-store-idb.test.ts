// The shared ContentStore checks, run in Chromium against the IndexedDB backend (the page's and
// the Service Worker's store), bundled with esbuild and loaded into a page of the app's origin.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { MemoryContentStore } from '../../runtime/content/index.ts';
import { contentStoreChecks } from '../suites/content-store-checks.ts';
import { launch, newProfileDir, removeProfileDir, serveDist } from './browser.ts';

describe('ContentStore: IndexedDB in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('../browser/content-store-idb.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2022',
    });
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await context.newPage();
    await page.goto(server.url);
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  // The names come from the same list the page runs.
  for (const check of contentStoreChecks(async () => new MemoryContentStore())) {
    it(check.name, async () => {
      expect(
        await page.evaluate(
          (name) =>
            (globalThis as unknown as { runContentCheck: (n: string) => Promise<string> }).runContentCheck(name),
          check.name,
        ),
      ).toBe('ok');
    });
  }
});
