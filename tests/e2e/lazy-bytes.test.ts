// Lazy file bytes on the no-window path: the Service Worker has no synchronous Blob reads, so with
// JSPI a program's reads of image files suspend it while the chunks they need are read from the
// IndexedDB Blob (runtime/run/byte-sources.ts, run-program.ts). A program reading 16 bytes at many
// offsets of a 48 MiB image file gets exactly those bytes, in the SW and in a worker alike.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berth } from '../integration/cli.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';
import { loadSetup } from './service-helpers.ts';

const READER = fileURLToPath(new URL('../fixtures/services/readfile.wasm', import.meta.url));
const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const SIZE = 48 * 2 ** 20;

/** Deterministic bytes: byte i of the file. */
const byteAt = (i: number) => (Math.imul(i, 2654435761) >>> 24) & 0xff;
const hexAt = (offset: number) =>
  Array.from({ length: Math.max(0, Math.min(16, SIZE - offset)) }, (_, k) =>
    byteAt(offset + k)
      .toString(16)
      .padStart(2, '0'),
  ).join('');

describe('lazy file bytes in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-lazy-'));
    const big = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i++) big[i] = byteAt(i);
    await writeFile(join(dir, 'big.bin'), big);
    const layout = join(dir, 'layout');
    const pack = await berth([
      'pack',
      READER,
      '-t',
      'localhost/test/reader:1',
      '--add',
      `${join(dir, 'big.bin')}:/srv/big.bin`,
      '--oci',
      layout,
    ]);
    expect(pack.code, pack.stderr).toBe(0);
    expect((await berth(['pack', HELLO, '-t', 'localhost/test/side:1', '--oci', layout])).code).toBe(0);
    const services = [
      { name: 'reader', image: 'localhost/test/reader:1' },
      { name: 'side', image: 'localhost/test/side:1', trusted: true },
    ];
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
    await loadSetup(page, layout, services);
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await removeProfileDir(profile);
  });

  const offsets = [0, 1, 1_048_575, 1_048_576 - 8, 20_000_000, SIZE - 16, SIZE - 3];

  it('a worker reads the right bytes at every offset', async () => {
    for (const off of offsets) {
      const r = await fetchText(page, `/svc/reader/${off}`);
      expect({ off, status: r.status, runner: r.runner, text: r.text }).toEqual({
        off,
        status: 200,
        runner: 'worker',
        text: `${hexAt(off)}\n`,
      });
    }
  });

  it('the Service Worker, with no window, reads the same bytes on demand (JSPI where present)', async () => {
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/side/`);
    await page.close();
    try {
      expect(await tab.evaluate(() => typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending)).toBe(
        'function',
      );
      for (const off of offsets) {
        const r = await fetchText(tab, `/svc/reader/${off}`);
        expect({ off, status: r.status, runner: r.runner, text: r.text }).toEqual({
          off,
          status: 200,
          runner: 'service-worker',
          text: `${hexAt(off)}\n`,
        });
      }
    } finally {
      page = await openApp(context, server.url);
      await tab.close();
    }
  });
});
