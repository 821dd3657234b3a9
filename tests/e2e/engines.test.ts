// The same walk in every engine installed here (Chromium, Firefox ESR, WebKitGTK), through one page
// API (engines/): the pre-seeded hello-web-db counted from the page, a new tab and 50 concurrent
// requests; a pull from a local registry with the progress bar moving; a service created in the UI
// and stopped at its deadline on both paths; the terminal with stdin typed live; save, remove and
// load of an image; offline; and a restart of the browser with the same profile.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../cli/serve.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { imageLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { newProfileDir, removeProfileDir } from './browser.ts';
import {
  type EngineBrowser,
  type EnginePage,
  selectedEngines,
  webkitEphemeralEngine,
  textOf,
  waitForSelector,
  waitUntil,
} from './engines/index.ts';
import { serviceFixture } from './service-helpers.ts';

const DEADLINE_MS = 2000;
const CLOCK = 'localhost/berth/clock-stream:latest';

let reg: TestRegistry;
let proxy: FaultProxy;
let runawayRef = '';

beforeAll(async () => {
  reg = await startRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
  await imageLayout(dir, 'runaway:1', {
    wasm: await serviceFixture('runaway'),
    // Big enough that a slowed link shows the bar between its ends.
    files: [{ path: '/pad.bin', data: new Uint8Array(400_000).map((_, i) => (i * 7919) % 251) }],
  });
  await skopeoCopy(`oci:${dir}:runaway:1`, reg, 'test/runaway:1');
  proxy = await startFaultProxy(reg.url);
  proxy.rules.push({ match: (r) => r.url!.includes('/blobs/'), times: 1000, delayMs: 15 });
  runawayRef = `${proxy.host}/test/runaway:1`;
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
});

async function openApp(browser: EngineBrowser, url: string): Promise<EnginePage> {
  const page = await browser.newPage();
  await page.goto(url);
  await waitForSelector(page, 'body[data-ready="true"]', 60_000).catch(async (e: unknown) => {
    throw new Error(`the app did not become ready (status: ${await textOf(page, '#status')})`, { cause: e });
  });
  return page;
}

type Answer = { status: number; text: string; runner: string | null; ms: number };
function get(page: EnginePage, path: string): Promise<Answer> {
  return page.evaluate(async (p) => {
    const t0 = performance.now();
    const r = await fetch(p);
    const text = await r.text();
    return { status: r.status, text, runner: r.headers.get('x-berth-runner'), ms: performance.now() - t0 };
  }, path);
}
const hits = (t: string) => Number(/hits=(\d+)/.exec(t)?.[1]);

for (const engine of selectedEngines()) {
  const missing = engine.missing();
  describe.skipIf(missing !== undefined)(
    `every engine: ${engine.name}${missing ? ` (missing: ${missing})` : ''}`,
    () => {
      let server: { url: string; close: () => Promise<void> };
      let port = 0;
      let profile: string;
      let browser: EngineBrowser | undefined;
      let page: EnginePage;

      beforeAll(async () => {
        server = await startServer({ distDir: 'dist', host: '127.0.0.1', port: 0 });
        port = Number(new URL(server.url).port);
        profile = await newProfileDir();
        browser = await engine.launch(profile);
      }, 120_000);
      afterAll(async () => {
        await browser?.close();
        await server?.close();
        await removeProfileDir(profile);
      });

      it('opens the app with the seeded images and services', async () => {
        page = await openApp(browser!, server.url);
        expect(await textOf(page, '#images')).toContain('localhost/berth/hello-web-db:latest');
        expect(await textOf(page, '#services')).toContain('/svc/hello-web-db/');
        // What this engine lacks is said on the page (feature-detected).
        const notes = await textOf(page, '#engine-notes');
        const jspi = await page.evaluate(() => 'Suspending' in WebAssembly);
        expect(notes?.includes('JSPI')).toBe(!jspi);
      });

      it('counts hits from the page, a new tab and 50 concurrent requests', async () => {
        const first = await get(page, '/svc/hello-web-db');
        expect({ status: first.status, text: first.text, runner: first.runner }).toEqual({
          status: 200,
          text: 'hello from wasm, hits=1\n',
          runner: 'worker',
        });
        const tab = await browser!.newPage();
        await tab.goto(`${server.url}svc/hello-web-db`);
        expect(await textOf(tab, 'body')).toBe('hello from wasm, hits=2\n');
        await tab.close();
        const statuses = await page.evaluate(() =>
          Promise.all(Array.from({ length: 50 }, () => fetch('/svc/hello-web-db').then((r) => r.status))),
        );
        expect(statuses.filter((s) => s === 200).length).toBe(50);
        expect(hits((await get(page, '/svc/hello-web-db')).text)).toBe(53);
      });

      it('pulls from a local registry with the progress bar moving', async () => {
        await page.evaluate(() => {
          const w = window as unknown as { seen: number[] };
          w.seen = [];
          new MutationObserver(() => {
            const bar = document.querySelector('#pull-progress progress');
            if (bar) w.seen.push(Number(bar.getAttribute('value')) / Number(bar.getAttribute('max')));
          }).observe(document.getElementById('pull-progress')!, { childList: true, subtree: true, attributes: true });
        });
        await page.fill('input[name="ref"]', runawayRef);
        await page.click('#pull-form button[type="submit"]');
        await waitForSelector(page, '#pull-progress p', 60_000);
        expect(await textOf(page, '#pull-progress p')).toContain(`Pulled ${runawayRef}`);
        await waitForSelector(page, `tr[data-ref="${runawayRef}"]`);
        const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
        expect(seen.some((f) => f > 0 && f < 1)).toBe(true);
      });

      it('creates a service in the UI; its deadline stops a runaway with 504, and the next request is served', async () => {
        await page.evaluate(() => {
          (document.getElementById('new-service') as HTMLDetailsElement).open = true;
        });
        await page.fill('#service-form input[name="name"]', 'runaway');
        await page.select('#service-form select[name="image"]', runawayRef);
        await page.fill('#service-form input[name="timeout"]', String(DEADLINE_MS / 1000));
        await page.click('#service-form button[type="submit"]');
        await waitForSelector(page, 'li[data-service="runaway"]');
        for (const shape of ['/leaf', '/sleep']) {
          const r = await get(page, `/svc/runaway${shape}`);
          expect({ shape, status: r.status, runner: r.runner }).toEqual({ shape, status: 504, runner: 'worker' });
          expect(r.text).toContain(`did not finish within ${DEADLINE_MS} ms`);
          expect(r.ms).toBeLessThan(1.5 * DEADLINE_MS);
          expect((await get(page, '/svc/runaway/ok')).text).toBe('ok\n');
        }
      });

      it('streams a response as the program writes it', async () => {
        const reads = await page.evaluate(async () => {
          const res = await fetch('/svc/clock-stream/');
          const reader = res.body!.getReader();
          const t0 = performance.now();
          const at: number[] = [];
          let text = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += new TextDecoder().decode(value);
            at.push(performance.now() - t0);
          }
          return { at, text };
        });
        expect(reads.text).toContain('tick 5');
        // The first bytes were there well before the last.
        expect(reads.at.at(-1)! - reads.at[0]!).toBeGreaterThan(300);
      });

      it('with no app window, the Service Worker serves and stops a runaway at its deadline', async () => {
        // A trusted service's page is in berth's origin: its fetches reach the Service Worker.
        await page.evaluate(() => {
          (document.getElementById('new-service') as HTMLDetailsElement).open = true;
        });
        await page.fill('#service-form input[name="name"]', 'echo-trusted');
        await page.select('#service-form select[name="image"]', 'localhost/berth/wagi-echo:latest');
        await page.select('#service-form select[name="mode"]', 'wagi');
        await page.fill('#service-form input[name="timeout"]', '30');
        await page.click('#service-form input[name="trusted"]');
        await page.click('#service-form button[type="submit"]');
        await waitForSelector(page, 'li[data-service="echo-trusted"]');
        const tab = await browser!.newPage();
        await tab.goto(`${server.url}svc/echo-trusted/start`);
        await page.close();
        try {
          const counted = await get(tab, '/svc/hello-web-db');
          expect({ status: counted.status, runner: counted.runner, hits: hits(counted.text) }).toEqual({
            status: 200,
            runner: 'service-worker',
            hits: 54,
          });
          const r = await get(tab, '/svc/runaway/leaf');
          expect({ status: r.status, runner: r.runner }).toEqual({ status: 504, runner: 'service-worker' });
          expect(r.text).toContain(`did not finish within ${DEADLINE_MS} ms`);
          expect(r.ms).toBeLessThan(1.5 * DEADLINE_MS);
          expect((await get(tab, '/svc/runaway/ok')).text).toBe('ok\n');
        } finally {
          // The app first: WebDriver ends the session when its last window closes.
          page = await openApp(browser!, server.url);
          await tab.close();
        }
      });

      it('runs an image in the terminal with its request typed live', async () => {
        await page.select('#terminal-form select[name="image"]', 'localhost/berth/hello-web-db:latest');
        await page.click('#terminal-form button[type="submit"]');
        await waitForSelector(page, '#terminal-section[data-running="true"]');
        await waitUntil(page, () => document.activeElement?.classList.contains('xterm-helper-textarea'), undefined, {
          what: 'the terminal to take the keyboard',
        });
        await page.type('GET / HTTP/1.1');
        await page.press('Enter');
        await page.press('Enter');
        await page.press('Control+D');
        await waitForSelector(page, '#terminal-section[data-running="false"][data-exit-code="0"]', 20_000);
        await waitUntil(
          page,
          () =>
            Array.from(document.querySelectorAll('#terminal .xterm-rows > div')).some((r) =>
              (r.textContent ?? '').includes('hello from wasm, hits='),
            ),
          undefined,
          { what: 'the program’s answer in the terminal' },
        );
      });

      it('saves an image, removes it, loads the archive back and runs it', async () => {
        // The page's Save hands a Blob URL to an <a download>; the test keeps the Blob (browsers'
        // download UIs differ per driver) and gives it back through the archive input, as a picked file.
        await page.evaluate(() => {
          const w = window as unknown as { saved?: Promise<File> };
          const click = HTMLAnchorElement.prototype.click;
          HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
            if (!this.download) return click.call(this);
            const name = this.download;
            w.saved = fetch(this.href)
              .then((r) => r.blob())
              .then((b) => new File([b], name, { type: 'application/x-tar' }));
          };
          window.confirm = () => true;
        });
        await page.click(`tr[data-ref="${CLOCK}"] button[data-action="save"]`);
        await waitUntil(page, () => (window as unknown as { saved?: unknown }).saved !== undefined, undefined, {
          what: 'the saved archive',
        });
        await page.click(`tr[data-ref="${CLOCK}"] button[data-action="remove"]`);
        await waitUntil(page, (r) => !document.querySelector(`tr[data-ref="${r}"]`), CLOCK, {
          what: 'the image to go',
        });
        const size = await page.evaluate(async () => {
          const file = await (window as unknown as { saved: Promise<File> }).saved;
          const input = document.getElementById('load-input') as HTMLInputElement;
          const picked = new DataTransfer();
          picked.items.add(file);
          input.files = picked.files;
          input.dispatchEvent(new Event('change', { bubbles: true }));
          return file.size;
        });
        expect(size).toBeGreaterThan(1024);
        await waitUntil(
          page,
          () => document.getElementById('load-status')?.textContent?.startsWith('Loaded'),
          undefined,
          {
            timeoutMs: 60_000,
            what: 'the archive to load',
          },
        );
        expect(await textOf(page, '#load-status')).toBe(`Loaded ${CLOCK}.`);
        expect((await get(page, '/svc/clock-stream/')).text).toContain('tick 5');
      });

      it('keeps working offline: the app reloads and the service keeps counting', async () => {
        await server.close();
        try {
          await page.reload();
          await waitForSelector(page, 'body[data-ready="true"]', 60_000);
          expect(await textOf(page, '#images')).toContain('localhost/berth/hello-web-db:latest');
          // Really offline: what the SW does not serve fails.
          expect(
            await page.evaluate(() =>
              fetch(`/not-cached-${Math.random()}`).then(
                () => 'reached',
                () => 'failed',
              ),
            ),
          ).toBe('failed');
          expect(hits((await get(page, '/svc/hello-web-db')).text)).toBe(55);
        } finally {
          server = await startServer({ distDir: 'dist', host: '127.0.0.1', port });
        }
      });

      it.skipIf(!engine.persistentProfile)(
        'keeps the counter when the browser restarts with the same profile',
        async () => {
          await browser!.close();
          browser = await engine.launch(profile);
          page = await openApp(browser, server.url);
          expect(hits((await get(page, '/svc/hello-web-db')).text)).toBe(56);
        },
      );
    },
  );
}

const ephemeral = selectedEngines().some((e) => e.name === 'webkit') ? webkitEphemeralEngine.missing() : 'not selected';
describe.skipIf(ephemeral !== undefined)(
  `WebKit in an ephemeral session, as a Safari private window${ephemeral ? ` (skipped: ${ephemeral})` : ''}`,
  () => {
    it('keeps images as bytes where IndexedDB refuses Blobs, says so, and pulls, runs and serves as usual', async () => {
      const server = await startServer({ distDir: 'dist', host: '127.0.0.1', port: 0 });
      const browser = await webkitEphemeralEngine.launch(await newProfileDir());
      try {
        const page = await openApp(browser, server.url);
        expect(await textOf(page, '#engine-notes')).toContain('does not keep files in IndexedDB');
        expect((await get(page, '/svc/hello-web-db')).text).toBe('hello from wasm, hits=1\n');
        await page.fill('input[name="ref"]', runawayRef);
        await page.click('#pull-form button[type="submit"]');
        await waitForSelector(page, '#pull-progress p', 60_000);
        expect(await textOf(page, '#pull-progress p')).toContain(`Pulled ${runawayRef}`);
        await page.evaluate(() => {
          (document.getElementById('new-service') as HTMLDetailsElement).open = true;
        });
        await page.fill('#service-form input[name="name"]', 'runaway');
        await page.select('#service-form select[name="image"]', runawayRef);
        await page.click('#service-form button[type="submit"]');
        await waitForSelector(page, 'li[data-service="runaway"]');
        expect((await get(page, '/svc/runaway/ok')).text).toBe('ok\n');
      } finally {
        await browser.close();
        await server.close();
      }
    });
  },
);
