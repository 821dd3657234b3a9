// Workshops: a seed link (`/?seed=<url>`) to a folder served over HTTP brings a fresh profile to
// a working service with no registry running; "Export my setup" produces one file that a second
// fresh profile imports, images and services together.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
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

describe('workshops', () => {
  let app: { url: string; close: () => Promise<void> };
  let folder: { url: string; server: Server };
  const profiles: string[] = [];

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-workshop-'));
    expect((await berth(['pack', HELLO, '-t', 'localhost/workshop/counter:1', '--dir', '/data', '--oci', join(root, 'room')])).code).toBe(0);
    await writeFile(join(root, 'room', 'berth-setup.json'), JSON.stringify({ version: 1, services: [{ name: 'room-counter', image: 'localhost/workshop/counter:1', volumes: [{ name: 'room', path: '/data' }] }] }));
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
      const page = await openApp(context, `${app.url}?seed=${encodeURIComponent(`${folder.url}room/`)}`);
      expect(await page.textContent('#status')).toContain('Workshop link imported localhost/workshop/counter:1; services room-counter');
      expect(await page.textContent('#images')).toContain('localhost/workshop/counter:1');
      expect((await fetchText(page, '/svc/room-counter/')).text).toBe('hello from wasm, hits=1\n');
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
      const page = await openApp(a, `${app.url}?seed=${encodeURIComponent(`${folder.url}room/`)}`);
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
