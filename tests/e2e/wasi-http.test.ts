// wasi:http handler components served from a tab (Chromium, the real Service Worker): the
// ComponentizeJS handlers of tests/fixtures/components/http, pushed to a local docker-registry as a
// CNCF Wasm artifact (hello) and as a tar-layer image (kit), pulled with the page's form, bound as
// services and reached at /svc/<name>/... with an app window open (its workers run them) and without.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLUE_VERSION } from '../../runtime/component/index.ts';
import { MODULE_CACHE } from '../../runtime/run/index.ts';
import { DEFAULT_MEMORY_BYTES } from '../../runtime/serve/index.ts';
import { DeadlineImport } from '../../runtime/wasm/index.ts';
import { berth } from '../integration/cli.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';
import { createService, pull, readAsItComes } from './service-helpers.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/components/${name}.component.wasm`, import.meta.url));

/** Packs `file` with berth into an OCI layout and copies it to the registry as test/NAME:1. */
async function push(reg: TestRegistry, name: string, args: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-wh-'));
  const packed = await berth(['pack', fixture(name), '-t', `localhost/test/${name}:1`, '--oci', dir, ...args]);
  expect(packed.code, packed.stderr).toBe(0);
  await skopeoCopy(`oci:${dir}:localhost/test/${name}:1`, reg, `test/${name}:1`);
  return `${reg.host}/test/${name}:1`;
}

describe('wasi:http components in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let reg: TestRegistry;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    reg = await startRegistry();
    const hello = await push(reg, 'hello-http', ['--artifact']);
    const kit = await push(reg, 'http-kit', ['--dir', '/data']);
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
    await pull(page, hello);
    await pull(page, kit);
    // Trusted: its page is in berth's origin, so a tab on it can fetch through the SW with no app window.
    const prepared = () =>
      page.waitForFunction(
        () => document.getElementById('service-form-status')?.textContent?.includes('Its component is ready'),
        undefined,
        { timeout: 60_000 },
      );
    await createService(page, { name: 'hello-http', image: hello, trusted: true });
    await prepared();
    // kit calls hello-http (and tries kit itself); kit-2s calls kit.
    await createService(page, {
      name: 'kit',
      image: kit,
      mode: 'wasi-http',
      volumes: 'kit-data:/data',
      hosts: '/svc/hello-http/',
    });
    await prepared();
    await createService(page, { name: 'kit-2s', image: kit, timeout: 2, hosts: '/svc/kit/' });
    await prepared();
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await reg?.stop();
    await removeProfileDir(profile);
  });

  // Made when each service was created, before any request: the core modules as a run compiles
  // them (the service's memory cap, deadline checks added), which a restarted browser or SW then
  // compiles from as they are (the 13 MB core module of hello: 0.3 s of metering spared).
  it("keeps each component service's core modules as its runs compile them, before its first request", async () => {
    const kept = await page.evaluate(
      async ({ cacheName, deadline }) => {
        const cache = await caches.open(cacheName);
        const out: { key: unknown[]; size: number; metered: boolean }[] = [];
        for (const req of await cache.keys()) {
          const path = new URL(req.url).pathname;
          if (!path.startsWith('/__berth/modules/component/')) continue;
          const r = (await cache.match(req))!;
          const size = (await r.clone().arrayBuffer()).byteLength;
          const imports = WebAssembly.Module.imports(await WebAssembly.compileStreaming(r));
          out.push({
            key: JSON.parse(decodeURIComponent(path.slice('/__berth/modules/component/'.length))),
            size,
            metered: imports.some((i) => i.module === deadline.module && i.name === deadline.name),
          });
        }
        return out;
      },
      { cacheName: MODULE_CACHE, deadline: DeadlineImport },
    );
    // hello-http and kit (kit-2s runs kit's image under the same cap): four core modules each.
    const images = new Set(kept.map((k) => k.key[1]));
    expect(images.size).toBe(2);
    expect(kept).toHaveLength(8);
    for (const k of kept) expect(k.key).toEqual([GLUE_VERSION, k.key[1], k.key[2], DEFAULT_MEMORY_BYTES, true]);
    // The engine's own module (the largest) carries the deadline checks.
    const largest = kept.reduce((a, b) => (b.size > a.size ? b : a));
    expect(largest.size).toBeGreaterThan(10e6);
    expect(largest.metered).toBe(true);
  });

  it('serves the hello handler from a worker of the app window', async () => {
    const r = await fetchText(page, '/svc/hello-http/');
    expect(r).toEqual({ status: 200, text: 'hello from a wasi:http component\n', runner: 'worker' });
  });

  it('echoes method, path, headers and a 2 MiB body', async () => {
    const r = await page.evaluate(async () => {
      const body = new Uint8Array(2 << 20);
      for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
      const res = await fetch('/svc/kit/echo?a=1', { method: 'POST', body, headers: { 'x-from': 'tab' } });
      const back = new Uint8Array(await res.arrayBuffer());
      return {
        method: res.headers.get('x-echo-method'),
        path: res.headers.get('x-echo-path'),
        from: JSON.parse(res.headers.get('x-echo-headers') ?? '{}')['x-from'],
        same: back.length === body.length && back.every((b, i) => b === body[i]),
      };
    });
    expect(r).toEqual({ method: 'POST', path: '/svc/kit/echo?a=1', from: 'tab', same: true });
  });

  it('streams: the first line is in the tab before the handler writes the last', async () => {
    const { reads } = await readAsItComes(page, '/svc/kit/stream');
    expect(reads.at(-1)!.text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    const first = reads.find((s) => s.text.includes('line 1'))!;
    expect(first.text).not.toContain('line 5');
    expect(reads.at(-1)!.at - first.at).toBeGreaterThan(600);
  });

  it('counts exactly +50 for 50 concurrent requests to the volume', async () => {
    const count = async () => Number((await fetchText(page, '/svc/kit/count')).text.trim());
    const before = await count();
    const statuses = await page.evaluate(() =>
      Promise.all(Array.from({ length: 50 }, () => fetch('/svc/kit/count').then((r) => r.status))),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await count()).toBe(before + 51);
  });

  it("calls another service through outgoing HTTP; berth's own files and unlisted hosts are refused", async () => {
    const r = await fetchText(page, '/svc/kit/call?to=hello-http');
    expect(r).toMatchObject({ status: 200, text: 'hello-http said 200: hello from a wasi:http component\n' });
    const own = await fetchText(page, '/svc/kit/call?to=..%2Findex.html%3F');
    expect(own.status).toBe(500);
    const self = await fetchText(page, '/svc/kit/call?to=kit');
    expect(self.status).toBe(500);
    // A service kit does not list among its outgoing hosts (it lists /svc/hello-http/ only).
    const unlisted = await fetchText(page, '/svc/kit/call?to=kit-2s');
    expect(unlisted.status).toBe(500);
  });

  it('a worker that kept a volume lock lets it go before a job that calls the service holding it', async () => {
    // kit mounts kit-data: its run leaves the worker keeping that volume's lock a moment. The next
    // request goes to the same worker (the pool reuses the last one) and calls kit, which then runs
    // in the SW and needs the lock, while the worker waits in a synchronous XHR and hears nothing:
    // had it kept the lock, the call would wait out kit-2s's 2 s deadline (504). kit has no route
    // for "/": it answers 404, which is the call's result here.
    const seen = await page.evaluate(async () => {
      const out: string[] = [];
      for (let i = 0; i < 3; i++) {
        await (await fetch('/svc/kit/count')).text();
        const r = await fetch('/svc/kit-2s/call?to=kit');
        out.push(`${r.status} ${r.headers.get('x-berth-runner')} ${(await r.text()).split(':')[0]}`);
      }
      return out;
    });
    expect(seen).toEqual(Array(3).fill('200 worker kit said 404'));
  });

  it('stops a handler that never returns at its deadline (504), then serves the next request', async () => {
    const r = await fetchText(page, '/svc/kit-2s/spin');
    expect(r).toMatchObject({ status: 504, runner: 'worker' });
    expect((await fetchText(page, '/svc/hello-http/')).status).toBe(200);
  });

  it('with no app window and offline, the Service Worker serves them itself, streaming and composing', async () => {
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/hello-http/`);
    await page.close();
    await context.setOffline(true);
    try {
      const r = await fetchText(tab, '/svc/hello-http/');
      expect(r).toEqual({ status: 200, text: 'hello from a wasi:http component\n', runner: 'service-worker' });
      const echo = await tab.evaluate(async () => {
        const res = await fetch('/svc/kit/echo', { method: 'PUT', body: 'x'.repeat(100_000) });
        return `${res.headers.get('x-echo-method')} ${(await res.text()).length}`;
      });
      expect(echo).toBe('PUT 100000');
      const reads = (await readAsItComes(tab, '/svc/kit/stream')).reads.map((r) => r.text);
      expect(reads.at(-1)).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
      expect(reads.find((s) => s.includes('line 1'))).not.toContain('line 5');
      // Composition with no window and no network: the SW answers the inner call itself.
      const call = await fetchText(tab, '/svc/kit/call?to=hello-http');
      expect(call).toMatchObject({ status: 200, text: 'hello-http said 200: hello from a wasi:http component\n' });
      expect((await fetchText(tab, '/svc/kit/call?to=kit')).status).toBe(500);
      const count = async () => Number((await fetchText(tab, '/svc/kit/count')).text.trim());
      const before = await count();
      const statuses = await tab.evaluate(() =>
        Promise.all(Array.from({ length: 50 }, () => fetch('/svc/kit/count').then((r) => r.status))),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(await count()).toBe(before + 51);
      // No worker to terminate here: the SW's copy of the component is metered.
      const spun = await fetchText(tab, '/svc/kit-2s/spin');
      expect(spun).toMatchObject({ status: 504, runner: 'service-worker' });
      expect((await fetchText(tab, '/svc/hello-http/')).status).toBe(200);
    } finally {
      await context.setOffline(false);
      page = await openApp(context, server.url);
      await tab.close();
    }
  });
});
