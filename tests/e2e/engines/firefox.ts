// Firefox ESR through puppeteer-core over WebDriver BiDi (Debian's firefox-esr; no geckodriver).
import puppeteer, { type Page } from 'puppeteer-core';
import { type Engine, type EngineBrowser, type EnginePage, FIREFOX, missingFile } from './engine.ts';

// This machine's network is closed: keep Firefox from reaching out at start (updates, telemetry,
// captive portal checks), which only slows it down.
const PREFS = {
  'app.update.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

function wrap(page: Page): EnginePage {
  return {
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    evaluate: (fn, arg) => page.evaluate(fn as (a: unknown) => never, arg) as never,
    click: (s) => page.click(s),
    fill: (s, v) => page.locator(s).fill(v),
    select: async (s, v) => void (await page.select(s, v)),
    type: (t) => page.keyboard.type(t),
    async press(k) {
      if (k === 'Enter') return page.keyboard.press('Enter');
      await page.keyboard.down('Control');
      await page.keyboard.press(k === 'Control+D' ? 'd' : 'c');
      await page.keyboard.up('Control');
    },
    close: () => page.close(),
  };
}

export const firefoxEngine: Engine = {
  name: 'firefox',
  missing: () => missingFile(FIREFOX, 'Firefox ESR', 'firefox-esr'),
  persistentProfile: true,
  async launch(profileDir): Promise<EngineBrowser> {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      protocol: 'webDriverBiDi',
      headless: true,
      userDataDir: profileDir,
      extraPrefsFirefox: PREFS,
    });
    let blank: Page | undefined = (await browser.pages())[0];
    return {
      engine: 'firefox',
      async newPage() {
        const p = blank ?? (await browser.newPage());
        blank = undefined;
        return wrap(p);
      },
      close: () => browser.close(),
    };
  },
};
