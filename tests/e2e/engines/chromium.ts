// Chromium through playwright-core (Debian's chromium, no download).
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser.ts';
import { CHROMIUM, type Engine, type EngineBrowser, type EnginePage, missingFile } from './engine.ts';

function wrap(page: Page): EnginePage {
  return {
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    evaluate: (fn, arg) => page.evaluate(fn, arg as never),
    click: (s) => page.click(s),
    fill: (s, v) => page.fill(s, v),
    select: async (s, v) => void (await page.selectOption(s, v)),
    type: (t) => page.keyboard.type(t),
    press: (k) => page.keyboard.press(k),
    close: () => page.close(),
  };
}

export const chromiumEngine: Engine = {
  name: 'chromium',
  missing: () => missingFile(CHROMIUM, 'Chromium', 'chromium'),
  persistentProfile: true,
  async launch(profileDir): Promise<EngineBrowser> {
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    // A persistent context opens with one blank page; it is the first page handed out.
    let blank: Page | undefined = context.pages()[0];
    return {
      engine: 'chromium',
      async newPage() {
        const p = blank ?? (await context.newPage());
        blank = undefined;
        return wrap(p);
      },
      close: () => context.close(),
    };
  },
};
