// Services end to end in Chromium: /svc/<name>/... reached by fetch, navigation, an iframe and a
// form POST; raw and WAGI bridges; binary bodies; a streaming response; 50 concurrent requests to
// one volume; a deadline (504) and a trap (502); the 404 page; the run log; and all of it offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { fetchText, launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';
import { createService, pull, pushServiceFixtures, readAsItComes } from './service-helpers.ts';

describe('services in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let reg: TestRegistry;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let spinRef = '';
  let crashRef = '';

  beforeAll(async () => {
    reg = await startRegistry();
    ({ spin: spinRef, crash: crashRef } = await pushServiceFixtures(reg, ['spin', 'crash']));
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await reg?.stop();
    await removeProfileDir(profile);
  });

  it('reaches a WAGI service by fetch with CGI variables, status and redirects', async () => {
    const r = await fetchText(page, '/svc/wagi-echo/a/b?x=1&y=two');
    expect(r.status).toBe(200);
    expect(r.runner).toBe('worker');
    expect(r.text).toContain('method=GET\npath=/a/b\nquery=x=1&y=two\nscript=/svc/wagi-echo\n');
    expect(r.text).toContain('user-agent-set=yes');
    expect((await fetchText(page, '/svc/wagi-echo/missing')).status).toBe(404);
    const redirected = await page.evaluate(async () => {
      const res = await fetch('/svc/wagi-echo/redirect');
      return { url: res.url, redirected: res.redirected, text: await res.text() };
    });
    expect(redirected.redirected).toBe(true);
    expect(redirected.text).toContain('path=/landed');
  });

  it('answers from the service record as just written, in a window and in the Service Worker', async () => {
    // The SW keeps service records in memory (for 2 s): a page's write must reach it before the
    // page's next request. A window that said it is leaving gets no offers, so its requests run in
    // the SW (x-berth-runner tells).
    const seen = await page.evaluate(async () => {
      const table = window.berth!.ctx.records.table<Record<string, unknown>>('services');
      const echo = await table.get('wagi-echo');
      const sw = navigator.serviceWorker.controller!;
      const rounds: string[] = [];
      for (const inSw of [false, true]) {
        for (let i = 0; i < 8; i++) {
          if (inSw) sw.postMessage({ type: 'berth:window-leaving' });
          await table.put('flip', { ...echo, name: 'flip' });
          const up = await fetch('/svc/flip/x');
          await table.delete('flip');
          const down = await fetch('/svc/flip/x');
          rounds.push(`${up.status} ${up.headers.get('x-berth-runner')} ${down.status}`);
        }
      }
      sw.postMessage({ type: 'berth:window-back' });
      return rounds;
    });
    expect(seen).toEqual([...Array(8).fill('200 worker 404'), ...Array(8).fill('200 service-worker 404')]);
  });

  it('an app window keeps taking requests after the Service Worker stops and starts again', async () => {
    // Offers go on a port each window gives the SW; a restarted SW has none, offers the other way
    // (Client.postMessage), and the window gives it a port again. An offer lost on a dead port
    // would wait out the accept timeout and run in the SW (x-berth-runner would say so).
    const runners = async () => {
      const out: string[] = [];
      for (let i = 0; i < 3; i++) out.push((await fetchText(page, '/svc/wagi-echo/x')).runner ?? 'none');
      return out;
    };
    expect(await runners()).toEqual(['worker', 'worker', 'worker']);
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    expect(await runners()).toEqual(['worker', 'worker', 'worker']);
  });

  it('finishes a response streaming on a window port the window replaces mid-way', async () => {
    // A request's messages go on the port its window gave the SW. The window gives a new port when
    // a SW takes control (controllerchange, dispatched here by hand): the old one must stay open
    // until the streaming response on it is over, or the body stops short.
    const got = await page.evaluate(async () => {
      const r = await fetch('/svc/clock-stream/');
      const reader = r.body!.getReader();
      const dec = new TextDecoder();
      let text = dec.decode((await reader.read()).value, { stream: true });
      navigator.serviceWorker.dispatchEvent(new Event('controllerchange'));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
      return { text, runner: r.headers.get('x-berth-runner') };
    });
    expect(got).toEqual({ text: 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n', runner: 'worker' });
    // The next requests go on the new port.
    for (let i = 0; i < 3; i++) expect((await fetchText(page, '/svc/wagi-echo/x')).runner).toBe('worker');
  });

  it('echoes a 1 MiB binary body byte for byte', async () => {
    const same = await page.evaluate(async () => {
      const body = new Uint8Array(1 << 20);
      for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
      const res = await fetch('/svc/wagi-echo/echo', { method: 'PUT', body });
      const back = new Uint8Array(await res.arrayBuffer());
      return `${res.headers.get('content-type')} ${back.length === body.length && back.every((b, i) => b === body[i])}`;
    });
    expect(same).toBe('application/octet-stream true');
  });

  it('answers a navigation in a new tab, an iframe and a form POST', async () => {
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/wagi-echo/nav?q=1`);
    expect(await tab.textContent('body')).toContain('path=/nav\nquery=q=1');
    await tab.close();

    // The service page is sandboxed (an opaque origin), so the app cannot read the frame; the
    // browser's automation can.
    await page.evaluate(async () => {
      const f = document.createElement('iframe');
      f.src = '/svc/wagi-echo/frame';
      f.id = 'svc-frame';
      document.body.append(f);
      await new Promise((r) => f.addEventListener('load', r, { once: true }));
    });
    const frame = page.frames().find((f) => f.url().endsWith('/svc/wagi-echo/frame'));
    expect(await frame?.textContent('body')).toContain('path=/frame');
    await page.evaluate(() => document.getElementById('svc-frame')?.remove());

    const form = await context.newPage();
    await form.goto(server.url);
    await form.waitForSelector('body[data-ready="true"]');
    await form.evaluate(() => {
      const f = document.createElement('form');
      f.method = 'POST';
      f.action = '/svc/wagi-echo/form';
      for (const [k, v] of [
        ['a', '1'],
        ['b', 'two words'],
      ]) {
        const i = document.createElement('input');
        i.name = k;
        i.value = v;
        f.append(i);
      }
      document.body.append(f);
      f.submit();
    });
    await form.waitForURL('**/svc/wagi-echo/form');
    const posted = await form.textContent('body');
    expect(posted).toContain('method=POST\npath=/form');
    expect(posted).toContain('content-type=application/x-www-form-urlencoded');
    expect(posted).toContain('body=a=1&b=two+words');
    await form.close();
  });

  it('streams a response as the program writes it', async () => {
    const reads = (await readAsItComes(page, '/svc/clock-stream/')).reads.map((r) => r.text);
    const final = reads.at(-1)!;
    expect(final).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    // When the first line had arrived, the last had not been written yet.
    const firstSeen = reads.find((s) => s.includes('tick 1'))!;
    expect(firstSeen).not.toContain('tick 5');
  });

  it('gives a navigation away from the only app window its whole streamed response', async () => {
    // The window that navigates unloads once the head arrives: the run must not be its own.
    const only = await context.newPage();
    await page.close();
    try {
      await only.goto(server.url);
      await only.waitForSelector('body[data-ready="true"]');
      await only.evaluate(() => (location.href = '/svc/clock-stream/'));
      await only.waitForURL('**/svc/clock-stream/');
      await only.waitForFunction(() => document.body?.textContent?.includes('tick 5'), undefined, { timeout: 15_000 });
      expect(await only.textContent('body')).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    } finally {
      page = await openApp(context, server.url);
      await only.close();
    }
  });

  it('loses no update with 50 concurrent requests to one volume', async () => {
    const hits = (t: string) => Number(/hits=(\d+)/.exec(t)![1]);
    const before = hits((await fetchText(page, '/svc/hello-web-db')).text);
    const statuses = await page.evaluate(() =>
      Promise.all(Array.from({ length: 50 }, () => fetch('/svc/hello-web-db').then((r) => r.status))),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(hits((await fetchText(page, '/svc/hello-web-db')).text)).toBe(before + 51);
  });

  it('loses no update when the Service Worker and the window both write one volume at once', async () => {
    // The SW keeps a volume's lock a moment between its runs (leasedLocks); the window's workers
    // ask for the same lock. A request marked as a call from a service runs in the SW.
    const seen = await page.evaluate(async () => {
      const one = async (inSw: boolean) => {
        const r = await fetch('/svc/hello-web-db', inSw ? { headers: { 'x-berth-call': 'depth=0' } } : {});
        return { runner: r.headers.get('x-berth-runner'), hits: Number(/hits=(\d+)/.exec(await r.text())?.[1]) };
      };
      const first = await one(false);
      const all = await Promise.all(Array.from({ length: 40 }, (_, i) => one(i % 2 === 0)));
      return { first: first.hits, all };
    });
    const runners = seen.all.map((r) => r.runner);
    expect(runners.filter((r) => r === 'service-worker')).toHaveLength(20);
    expect(runners.filter((r) => r === 'worker')).toHaveLength(20);
    // Each run saw the one before it: 40 different counts, following on from the first.
    const counts = seen.all.map((r) => r.hits).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 40 }, (_, i) => seen.first + 1 + i));
  });

  it('stops a runaway program at its deadline with 504, then serves the next request', async () => {
    await pull(page, spinRef);
    await createService(page, { name: 'spin', image: spinRef, timeout: 2 });
    const r = await fetchText(page, '/svc/spin/');
    expect(r.status).toBe(504);
    expect(r.text).toContain('did not finish within 2000 ms');
    expect((await fetchText(page, '/svc/wagi-echo/after')).status).toBe(200);
  });

  it('with no app window, the Service Worker stops a runaway at its deadline and serves the next request', async () => {
    // A trusted service's page is in berth's origin, so its own fetches reach the Service Worker.
    await createService(page, {
      name: 'echo-trusted',
      image: 'localhost/berth/wagi-echo:latest',
      mode: 'wagi',
      trusted: true,
    });
    const tab = await context.newPage();
    await tab.goto(`${server.url}svc/echo-trusted/start`);
    await page.close();
    try {
      const r = await fetchText(tab, '/svc/spin/');
      expect(r).toMatchObject({ status: 504, runner: 'service-worker' });
      expect(r.text).toContain('did not finish within 2000 ms');
      const next = await fetchText(tab, '/svc/wagi-echo/next');
      expect(next).toMatchObject({ status: 200, runner: 'service-worker' });
    } finally {
      page = await openApp(context, server.url);
      await tab.close();
    }
  });

  it('answers 502 with the program’s stderr when it traps', async () => {
    await pull(page, crashRef);
    await createService(page, { name: 'crash', image: crashRef });
    const r = await fetchText(page, '/svc/crash/');
    expect(r.status).toBe(502);
    expect(r.text).toContain('trapped');
    expect(r.text).toContain('crash: about to trap');
  });

  it('lists the services on the 404 page of an unknown name', async () => {
    const r = await fetchText(page, '/svc/nope/');
    expect(r.status).toBe(404);
    for (const s of ['hello-web-db', 'wagi-echo', 'clock-stream', 'spin'])
      expect(r.text).toContain(`href="/svc/${s}/"`);
  });

  it('keeps a run log per service', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('li[data-service="spin"] button[data-action="log"]');
    await page.waitForSelector('li[data-service="spin"] .run-log table');
    const log = await page.textContent('li[data-service="spin"] .run-log');
    expect(log).toContain('GET /svc/spin/');
    expect(log).toContain('504');
  });

  it('does all of it offline', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      expect((await fetchText(page, '/svc/wagi-echo/offline')).text).toContain('path=/offline');
      expect((await fetchText(page, '/svc/hello-web-db')).status).toBe(200);
      expect((await fetchText(page, '/svc/spin/')).status).toBe(504);
    } finally {
      await context.setOffline(false);
    }
  });
});
