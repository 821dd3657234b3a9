// The page's Volumes section in Chromium: the seeded hello-web-db's volume, after requests, listed
// with its size and the service that mounts it (so Delete is refused), its files browsed, and a
// download that is a plain tar GNU tar lists; a volume no service mounts can be deleted, once its
// lock is free.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

describe('volumes in the page', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
    for (let i = 0; i < 2; i++) await fetchText(page, '/svc/hello-web-db');
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  it('lists the volume, browses its files, downloads it as a tar, refuses deleting a mounted one', async () => {
    await page.click('#volumes-refresh');
    const item = page.locator('li[data-volume="hello-web-db-data"]');
    await item.waitFor();
    expect(await item.textContent()).toContain('mounted by hello-web-db');
    expect(await item.locator('button[data-action="delete"]').isDisabled()).toBe(true);
    await item.locator('button[data-action="browse"]').click();
    await item.locator('code', { hasText: 'counter.json' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      item.locator('button[data-action="download"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('hello-web-db-data.tar');
    const file = join(await mkdtemp(join(tmpdir(), 'berth-vol-')), 'v.tar');
    await download.saveAs(file);
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' })).toBe('counter.json\n');
    expect(execFileSync('tar', ['-xOf', file, 'counter.json'], { encoding: 'utf8' })).toContain('"hits": 2');
  });

  it('deletes a volume no service mounts', async () => {
    await page.evaluate(async () => {
      const table = window.berth!.ctx.records.table<Record<string, unknown>>('volumes');
      await table.put('spare', { name: 'spare', snapshot: { entries: [] }, updated: Date.now() });
    });
    await page.click('#volumes-refresh');
    const spare = page.locator('li[data-volume="spare"]');
    await spare.waitFor();
    page.once('dialog', (d) => void d.accept());
    await spare.locator('button[data-action="delete"]').click();
    await spare.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => window.berth!.ctx.records.table('volumes').get('spare'))).toBeUndefined();
  });

  it('deletes a volume only once its lock is free (a run under way, or the SW keeping it between runs)', async () => {
    await page.evaluate(async () => {
      const table = window.berth!.ctx.records.table<Record<string, unknown>>('volumes');
      await table.put('busy', { name: 'busy', snapshot: { entries: [] }, updated: Date.now() });
      // Stands for a run holding the volume: the lock is let go when the page says so.
      const w = window as unknown as { letGo?: () => void };
      void navigator.locks.request('berth-volume:busy', () => new Promise<void>((r) => (w.letGo = r)));
    });
    await page.click('#volumes-refresh');
    const busy = page.locator('li[data-volume="busy"]');
    await busy.waitFor();
    page.once('dialog', (d) => void d.accept());
    await busy.locator('button[data-action="delete"]').click();
    await page.waitForTimeout(500);
    const stored = () => page.evaluate(() => window.berth!.ctx.records.table('volumes').get('busy'));
    expect(await stored()).toBeDefined();
    await page.evaluate(() => (window as unknown as { letGo: () => void }).letGo());
    await busy.waitFor({ state: 'detached' });
    expect(await stored()).toBeUndefined();
  });
});
