// Shared e2e helpers: Debian's Chromium through playwright-core with a fresh profile per test, and
// berth's own server over the built app.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../cli/serve.ts';
import { CHROMIUM } from './engines/engine.ts';

export { CHROMIUM };
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function newProfileDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'berth-profile-'));
}

export async function removeProfileDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function launch(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export async function serveDist(): Promise<{ url: string; close: () => Promise<void> }> {
  return startServer({ distDir: 'dist', host: '127.0.0.1', port: 0 });
}

/** Opens the app and waits until it is controlled by the SW, seeded and rendered. */
export async function openApp(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 }).catch(async (e: unknown) => {
    const status = await page.textContent('#status').catch(() => '?');
    throw new Error(`the app did not become ready (status: ${status}; page errors: ${errors.join('; ') || 'none'})`, {
      cause: e,
    });
  });
  return page;
}

export async function fetchText(
  page: Page,
  path: string,
): Promise<{ status: number; text: string; runner: string | null }> {
  return page.evaluate(async (p) => {
    const r = await fetch(p);
    return { status: r.status, text: await r.text(), runner: r.headers.get('x-berth-runner') };
  }, path);
}

/** Pulls `ref` with the page's pull form; resolves with the message the pull ended with. */
export async function pullInPage(
  page: Page,
  ref: string,
  creds?: { user: string; password: string; remember?: boolean },
): Promise<string> {
  await page.evaluate(() => document.getElementById('pull-progress')!.replaceChildren());
  await page.fill('input[name="ref"]', ref);
  if (creds) {
    await page.evaluate(() =>
      (document.querySelector('#pull-form details') as HTMLDetailsElement).setAttribute('open', ''),
    );
    await page.fill('input[name="user"]', creds.user);
    await page.fill('input[name="password"]', creds.password);
    await page.setChecked('input[name="remember"]', creds.remember === true);
  }
  await page.click('#pull-form button[type="submit"]');
  await page.waitForSelector('#pull-progress p', { timeout: 60_000 });
  return (await page.textContent('#pull-progress p')) ?? '';
}
