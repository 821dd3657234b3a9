// Sharing from the page: Save downloads an OCI layout tar (skopeo reads it); the file picker
// loads it back after the image was removed, and the loaded image runs.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

const exec = promisify(execFile);
const REF = 'localhost/berth/clock-stream:latest';

describe('image archives in the page', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  it('saves an image as a tar skopeo reads, removes it, loads it back and runs it', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`tr[data-ref="${REF}"] button[data-action="save"]`),
    ]);
    const file = join(await mkdtemp(join(tmpdir(), 'berth-dl-')), download.suggestedFilename());
    await download.saveAs(file);
    const info = JSON.parse((await exec('skopeo', ['inspect', `oci-archive:${file}`])).stdout) as {
      Architecture: string;
      Os: string;
    };
    expect(info).toMatchObject({ Architecture: 'wasm', Os: 'wasi' });

    // The seeded clock-stream service runs it: the page asks before removing it (it answers 502 meanwhile).
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.click(`tr[data-ref="${REF}"] button[data-action="remove"]`);
    await page.waitForFunction((r) => !document.querySelector(`tr[data-ref="${r}"]`), REF);
    expect(asked).toContain('service clock-stream runs it');
    await page.setInputFiles('#load-input', file);
    await page.waitForFunction(() => document.getElementById('load-status')?.textContent?.startsWith('Loaded'));
    expect(await page.textContent('#load-status')).toBe(`Loaded ${REF}.`);
    await page.waitForSelector(`tr[data-ref="${REF}"]`);
    expect(await page.evaluate(async () => (await fetch('/svc/clock-stream/')).text())).toContain('tick 5');
  });

  it('says why an archive cannot be loaded', async () => {
    await page.setInputFiles('#load-input', {
      name: 'junk.tar',
      mimeType: 'application/x-tar',
      buffer: Buffer.alloc(1024),
    });
    await page.waitForFunction(() => document.getElementById('load-status')?.textContent?.startsWith('Cannot'));
    expect(await page.textContent('#load-status')).toContain('(invalid-argument)');
  });
});
