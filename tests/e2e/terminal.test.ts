// The terminal in Chromium: an image's entrypoint runs in a worker with stdin typed live (each line
// answered before the next is typed, so the input is not collected up front), local echo and line
// editing, Ctrl-D as end of input and the exit code; the seeded hello-web-db answering a request
// typed by hand; Ctrl-C stopping a program that never ends; the Run button still one-shot; and the
// terminal working offline after a reload. A screenshot goes to test-results/screenshots/terminal.png.
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { imageLayout } from '../support/layouts.ts';
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.ts';
import { launch, newProfileDir, openApp, removeProfileDir, serveDist } from './browser.ts';

const SCREENSHOTS = join('test-results', 'screenshots');
const HELLO = 'localhost/berth/hello-web-db:latest';
const wasm = (path: string) => readFile(new URL(`../fixtures/${path}`, import.meta.url)).then((b) => new Uint8Array(b));

async function pull(page: Page, ref: string) {
  await page.fill('input[name="ref"]', ref);
  await page.click('#pull-form button[type="submit"]');
  await page.waitForSelector(`tr[data-ref="${ref}"]`);
}

/** What the terminal shows, row by row (xterm's DOM renderer), trailing blanks trimmed. */
function screenText(page: Page): Promise<string> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#terminal .xterm-rows > div'))
      .map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
      .join('\n'),
  );
}

async function waitForScreen(page: Page, text: string, timeout = 20_000): Promise<void> {
  await page
    .waitForFunction(
      (t) =>
        Array.from(document.querySelectorAll('#terminal .xterm-rows > div')).some((row) =>
          (row.textContent ?? '').replace(/\u00a0/g, ' ').includes(t),
        ),
      text,
      { timeout },
    )
    .catch(async (e: unknown) => {
      throw new Error(
        `the terminal never showed ${JSON.stringify(text)}; it shows:\n${await screenText(page)}\nstatus: ${await page.textContent('#terminal-status')}`,
        { cause: e },
      );
    });
}

async function start(page: Page, image: string, command = '') {
  await page.selectOption('#terminal-form select[name="image"]', image);
  await page.fill('#terminal-form input[name="command"]', command);
  await page.click('#terminal-form button[type="submit"]');
  await page.waitForSelector('#terminal-section[data-running="true"]');
  // Keys go to xterm's input element, which Start focused.
  await page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'));
}

async function exitCode(page: Page, timeout = 20_000): Promise<string> {
  await page.waitForSelector('#terminal-section[data-running="false"][data-exit-code]', { timeout });
  return (await page.getAttribute('#terminal-section', 'data-exit-code'))!;
}

describe('the terminal in Chromium', () => {
  let server: { url: string; close: () => Promise<void> };
  let reg: TestRegistry;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let echoRef = '';
  let spinRef = '';
  let componentRef = '';

  beforeAll(async () => {
    reg = await startRegistry();
    for (const [name, file] of [
      ['echo-upper', 'terminal/echo-upper.wasm'],
      ['spin', 'services/spin.wasm'],
      ['echo-component', 'components/echo.component.wasm'],
    ]) {
      const dir = await mkdtemp(join(tmpdir(), 'berth-l-'));
      await imageLayout(dir, `${name}:1`, { wasm: await wasm(file) });
      await skopeoCopy(`oci:${dir}:${name}:1`, reg, `test/${name}:1`);
    }
    echoRef = `${reg.host}/test/echo-upper:1`;
    spinRef = `${reg.host}/test/spin:1`;
    componentRef = `${reg.host}/test/echo-component:1`;
    server = await serveDist();
    profile = await newProfileDir();
    context = await launch(profile);
    page = await openApp(context, server.url);
    await pull(page, echoRef);
    await pull(page, spinRef);
    await pull(page, componentRef);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await reg?.stop();
    if (profile) await removeProfileDir(profile);
  });

  it('runs an entrypoint with stdin typed live, line by line, and shows its exit code', async () => {
    await start(page, echoRef);
    await waitForScreen(page, 'echo-upper>');
    await page.keyboard.type('hello');
    await waitForScreen(page, 'echo-upper> hello'); // local echo
    await page.keyboard.press('Enter');
    // The program answers the first line while input is still open: stdin is live, not collected.
    await waitForScreen(page, 'HELLO');
    expect(await page.getAttribute('#terminal-section', 'data-running')).toBe('true');
    expect(await screenText(page)).not.toContain('WORLD');
    // Backspace edits the line before it is sent.
    await page.keyboard.type('worlx');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('d');
    await page.keyboard.press('Enter');
    await waitForScreen(page, 'WORLD');
    await page.keyboard.press('Control+D');
    expect(await exitCode(page)).toBe('3');
    const text = await screenText(page);
    expect(text).not.toContain('WORLX');
    expect(text).toContain('bye');
    expect(text).toContain('echo-upper: end of input'); // stderr
    expect(text).toContain('[exit code 3]');
    expect(text.indexOf('HELLO')).toBeLessThan(text.indexOf('WORLD'));
    expect(await page.textContent('#terminal-status')).toContain('exited with code 3');
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.locator('#terminal-section').screenshot({ path: join(SCREENSHOTS, 'terminal.png') });
  });

  it('runs the seeded hello-web-db with a request typed by hand', async () => {
    await start(page, HELLO);
    await page.keyboard.type('GET / HTTP/1.1');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+D');
    expect(await exitCode(page)).toBe('0');
    await waitForScreen(page, 'hello from wasm, hits=');
  });

  it('draws underscores (at 1x they were clipped by the next row)', async () => {
    await start(page, HELLO);
    await page.keyboard.type('________');
    await waitForScreen(page, '________');
    const row = page.locator('#terminal .xterm-rows > div', { hasText: '________' }).first();
    const box = (await row.boundingBox())!;
    const png = await page.screenshot({ clip: { x: box.x, y: box.y, width: box.width, height: box.height } });
    // Lit pixels (the foreground on the dark background) per pixel row of that terminal row: eight
    // underscores make one row of about 8 cells' width; the cursor block alone is one cell wide.
    const perRow = await page.evaluate(async (b64) => {
      const bmp = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
      const g = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d')!;
      g.drawImage(bmp, 0, 0);
      const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
      return Array.from({ length: bmp.height }, (_, y) => {
        let n = 0;
        for (let x = 0; x < bmp.width; x++) if (d[(y * bmp.width + x) * 4] > 70) n++;
        return n;
      });
    }, png.toString('base64'));
    // The cursor block lights one cell's width on every pixel row; the underscores, one row of eight.
    const cursor = Math.min(...perRow.filter((n) => n > 0));
    expect(Math.max(...perRow), `lit pixels per row: ${perRow.join(',')}`).toBeGreaterThan(cursor * 5);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+D');
    await exitCode(page);
  });

  it('runs a WASI 0.2 command component in the worker, stdin typed live', async () => {
    await start(page, componentRef);
    await page.keyboard.type('through a component');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+D');
    expect(await exitCode(page)).toBe('0');
    // The program's own count of what it copied, on its stderr.
    await waitForScreen(page, 'bytes=20');
  });

  it('runs a command line instead of the entrypoint', async () => {
    // The image's program under its path, with an argument: the same program answers.
    await start(page, echoRef, '/app.wasm extra-arg');
    await waitForScreen(page, 'echo-upper>');
    await page.keyboard.type('argv');
    await page.keyboard.press('Enter');
    await waitForScreen(page, 'ARGV');
    await page.click('#terminal-form button[data-action="eof"]');
    expect(await exitCode(page)).toBe('3');
  });

  it('stops a program that never ends with Ctrl-C', async () => {
    await start(page, spinRef);
    await page.waitForTimeout(500);
    expect(await page.getAttribute('#terminal-section', 'data-running')).toBe('true');
    await page.keyboard.press('Control+C');
    expect(await exitCode(page, 5_000)).toBe('130');
    await waitForScreen(page, '[stopped]');
    expect(await page.textContent('#terminal-status')).toContain('stopped');
    // The page and the pool carry on: another run works at once.
    await start(page, echoRef);
    await page.keyboard.press('Control+D');
    expect(await exitCode(page)).toBe('3');
  });

  it('leaves the one-shot Run button as it was', async () => {
    await page.click(`tr[data-ref="${HELLO}"] button[data-action="run"]`);
    await page.waitForFunction(() => document.getElementById('run-output')?.textContent?.includes('[exit code'));
    const out = (await page.textContent('#run-output'))!;
    expect(out).toContain('hello from wasm, hits=');
    expect(out).toContain('[exit code 0]');
  });

  it('works offline after a reload', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      await page.waitForFunction(
        () => !(document.querySelector('#terminal-form button[type="submit"]') as HTMLButtonElement).disabled,
      );
      await start(page, echoRef);
      await waitForScreen(page, 'echo-upper>');
      await page.keyboard.type('offline');
      await page.keyboard.press('Enter');
      await waitForScreen(page, 'OFFLINE');
      await page.keyboard.press('Control+D');
      expect(await exitCode(page)).toBe('3');
    } finally {
      await context.setOffline(false);
    }
  });
});
