// WebKitGTK (the engine of Safari) through WebKitWebDriver, with a small W3C WebDriver classic client
// of berth's own (plain HTTP + JSON; selenium-webdriver would look for a driver binary to fetch).
// MiniBrowser has no headless mode: the driver and the browser it starts run under `xvfb-run -a`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { type Engine, type EngineBrowser, type EnginePage, MINIBROWSER, missingFile, onPath } from './engine.ts';

// A WebKitGTK browser of berth's own that keeps its profile on disk (see webkit-browser.py).
const PERSISTENT_BROWSER = fileURLToPath(new URL('./webkit-browser.py', import.meta.url));
const persistent =
  spawnSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('WebKit2', '4.1')"]).status === 0;

const KEY = { Enter: '\uE007', Control: '\uE009' } as const;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

class WebDriverError extends Error {}

class Session {
  private current = '';
  constructor(
    private readonly base: string,
    readonly id: string,
  ) {}

  async cmd<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.base}/session/${this.id}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body),
    });
    const json = (await r.json()) as { value: T & { error?: string; message?: string } };
    if (json.value?.error) throw new WebDriverError(`${path}: ${json.value.error}: ${json.value.message ?? ''}`);
    return json.value;
  }

  async focus(handle: string): Promise<void> {
    if (this.current === handle) return;
    await this.cmd('POST', '/window', { handle });
    this.current = handle;
  }

  forget(handle: string): void {
    if (this.current === handle) this.current = '';
  }

  async element(selector: string): Promise<string> {
    const el = await this.cmd<Record<string, string>>('POST', '/element', { using: 'css selector', value: selector });
    return Object.values(el)[0]!;
  }
}

function wrap(s: Session, handle: string): EnginePage {
  const on = async () => s.focus(handle);
  const keys = async (actions: { type: 'keyDown' | 'keyUp'; value: string }[]) => {
    await on();
    try {
      await s.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
    } finally {
      // Released even when the actions failed: a Control left down turns later typing into chords.
      await s.cmd('DELETE', '/actions');
    }
  };
  return {
    async goto(url) {
      await on();
      await s.cmd('POST', '/url', { url });
    },
    async reload() {
      await on();
      await s.cmd('POST', '/refresh');
    },
    async evaluate(fn, arg) {
      await on();
      // The function goes as source inside the driver's own script (no eval in the page).
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn.toString()})(arguments[0])).then(
          (v) => done({ ok: v === undefined ? null : v }),
          (e) => done({ error: String((e && e.stack) || e) }));`;
      const r = await s.cmd<{ ok?: unknown; error?: string }>('POST', '/execute/async', {
        script,
        args: [arg ?? null],
      });
      if (r.error !== undefined) throw new Error(`in the page: ${r.error}`);
      return r.ok as never;
    },
    async click(selector) {
      await on();
      await s.cmd('POST', `/element/${await s.element(selector)}/click`);
    },
    async fill(selector, value) {
      await on();
      const el = await s.element(selector);
      await s.cmd('POST', `/element/${el}/clear`);
      if (value) await s.cmd('POST', `/element/${el}/value`, { text: value });
    },
    async select(selector, value) {
      await on();
      const option = await s.element(`${selector} option[value=${JSON.stringify(value)}]`);
      await s.cmd('POST', `/element/${option}/click`);
    },
    type: (text) =>
      keys(
        [...text].flatMap((c) => [
          { type: 'keyDown' as const, value: c },
          { type: 'keyUp' as const, value: c },
        ]),
      ),
    press: (k) =>
      k === 'Enter'
        ? keys([
            { type: 'keyDown', value: KEY.Enter },
            { type: 'keyUp', value: KEY.Enter },
          ])
        : keys([
            { type: 'keyDown', value: KEY.Control },
            { type: 'keyDown', value: k === 'Control+D' ? 'd' : 'c' },
            { type: 'keyUp', value: k === 'Control+D' ? 'd' : 'c' },
            { type: 'keyUp', value: KEY.Control },
          ]),
    async close() {
      await on();
      await s.cmd('DELETE', '/window');
      s.forget(handle);
    },
  };
}

async function startDriver(profileDir: string): Promise<{ base: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], {
    detached: true,
    stdio: 'ignore',
    // The browser the driver starts inherits this (webkit-browser.py keeps its profile there).
    env: { ...process.env, BERTH_WEBKIT_PROFILE: profileDir },
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${base}/status`).then(
      async (r) => ((await r.json()) as { value?: { ready?: boolean } }).value?.ready === true,
      () => false,
    );
    if (ready) return { base, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  await killGroup(proc);
  throw new Error('WebKitWebDriver did not start within 10 s');
}

/** Ends the driver's process group (xvfb-run, Xvfb, WebKitWebDriver); resolves once it exited. */
function killGroup(proc: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    setTimeout(resolve, 5000);
  });
  try {
    process.kill(-proc.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
  return exited;
}

async function launchWebKit(binary: string, profileDir: string): Promise<EngineBrowser> {
  const { base, proc } = await startDriver(profileDir);
  try {
    const created = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary, args: ['--automation'] } } },
      }),
    }).then((r) => r.json() as Promise<{ value: { sessionId?: string; message?: string } }>);
    if (!created.value.sessionId) throw new Error(`no WebKit session: ${created.value.message}`);
    const s = new Session(base, created.value.sessionId);
    await s.cmd('POST', '/timeouts', { script: 120_000, pageLoad: 60_000 });
    let first: string | undefined = await s.cmd<string>('GET', '/window');
    return {
      engine: 'webkit',
      async newPage() {
        // A window, not a tab: closing a tab of MiniBrowser closed its whole window.
        const handle = first ?? (await s.cmd<{ handle: string }>('POST', '/window/new', { type: 'window' })).handle;
        first = undefined;
        return wrap(s, handle);
      },
      async close() {
        // Ending the session closes the browser; the profile is free again once the driver exited.
        await s.cmd('DELETE', '').catch(() => undefined);
        await killGroup(proc);
      },
    };
  } catch (e) {
    await killGroup(proc);
    throw e;
  }
}

const missingDriver = () =>
  (onPath('WebKitWebDriver') ? undefined : 'WebKitWebDriver (Debian: apt-get install webkit2gtk-driver)') ??
  (onPath('xvfb-run') ? undefined : 'xvfb-run (Debian: apt-get install xvfb)');

/** WebKitGTK with a profile kept on disk, as Safari keeps a normal window's data. */
export const webkitEngine: Engine = {
  name: 'webkit',
  missing: () =>
    missingDriver() ??
    (persistent
      ? undefined
      : 'python3-gi and WebKit2 4.1 for it (Debian: apt-get install python3-gi gir1.2-webkit2-4.1)'),
  persistentProfile: true,
  launch: (profileDir) => launchWebKit(PERSISTENT_BROWSER, profileDir),
};

/** MiniBrowser's automation session: ephemeral, as a Safari private window (IndexedDB refuses Blobs). */
export const webkitEphemeralEngine: Engine = {
  name: 'webkit',
  missing: () => missingDriver() ?? missingFile(MINIBROWSER, 'MiniBrowser', 'webkit2gtk-driver'),
  persistentProfile: false,
  launch: (profileDir) => launchWebKit(MINIBROWSER, profileDir),
};
