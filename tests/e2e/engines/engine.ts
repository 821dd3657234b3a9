// One small page API over three browser engines, so the same e2e walk runs in each: Chromium through
// playwright-core, Firefox ESR through puppeteer-core over WebDriver BiDi, WebKitGTK through
// WebKitWebDriver (W3C WebDriver classic, berth's own client). Only what every driver can do is
// here: navigate, evaluate a self-contained function, click, fill, select, type keys. Waits poll an
// evaluated predicate, the same way everywhere.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export type EngineName = 'chromium' | 'firefox' | 'webkit';

export interface EnginePage {
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /** Runs `fn` in the page. It must be self-contained (it is sent as source) and its result JSON. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  click(selector: string): Promise<void>;
  /** Replaces an input's value by typing `value` into it. */
  fill(selector: string, value: string): Promise<void>;
  select(selector: string, value: string): Promise<void>;
  /** Types text into the focused element. */
  type(text: string): Promise<void>;
  /** Presses one key or chord: 'Enter', 'Control+D', 'Control+C'. */
  press(key: 'Enter' | 'Control+D' | 'Control+C'): Promise<void>;
  close(): Promise<void>;
}

export interface EngineBrowser {
  readonly engine: EngineName;
  newPage(): Promise<EnginePage>;
  close(): Promise<void>;
}

export interface Engine {
  name: EngineName;
  /** Undefined when it can run here; else what is missing, with the Debian package that has it. */
  missing(): string | undefined;
  /**
   * Whether a profile survives `close` and `launch(profileDir)` again. WebKitGTK's MiniBrowser
   * under WebDriver runs an ephemeral session: nothing it stored is there after a restart.
   */
  persistentProfile: boolean;
  launch(profileDir: string): Promise<EngineBrowser>;
}

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function missingFile(path: string, what: string, pkg: string): string | undefined {
  return existsSync(path) ? undefined : `${what} at ${path} (Debian: apt-get install ${pkg})`;
}

/** Polls `predicate` in the page until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitUntil<A>(
  page: EnginePage,
  predicate: (arg: A) => unknown,
  arg?: A,
  { timeoutMs = 30_000, what = 'a condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(predicate as (a: A) => unknown, arg as A)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function waitForSelector(page: EnginePage, selector: string, timeoutMs = 30_000): Promise<void> {
  return waitUntil(page, (s) => document.querySelector(s) !== null, selector, { timeoutMs, what: selector });
}

export function textOf(page: EnginePage, selector: string): Promise<string | null> {
  return page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
}
