// The pull form: pulls in the page through the registry client (direct where CORS allows, else
// berth's registry proxy), into IndexedDB, with a progress bar per layer and overall.
import { RuntimeError } from '../runtime/core/index.ts';
import { pullImage, type PullProgress } from '../runtime/images/index.ts';
import { RecordTable } from '../runtime/content/index.ts';
import {
  corsFallbackFetch,
  explainCors,
  parseReference,
  RegistryClient,
  registryPathFetch,
  type Credentials,
} from '../runtime/registry/index.ts';
import type { AppContext } from './context.ts';
import { formatBytes, h, perFrame, writtenOut } from './dom.ts';
import { loadTrustPolicy } from './trust-view.ts';

function progressRow(label: string, done: number, total: number, state: string): HTMLElement {
  return h(
    'div',
    { class: 'progress-row' },
    h('span', { class: 'progress-label' }, label),
    h('progress', { max: String(Math.max(total, 1)), value: String(done), 'aria-label': label }),
    h('span', { class: 'muted' }, `${state} ${formatBytes(done)} / ${formatBytes(total)}`),
  );
}

function progressRows(p: PullProgress): HTMLElement {
  return h(
    'div',
    { 'data-phase': p.phase },
    progressRow(p.ref, p.done, p.total, p.phase),
    ...p.layers.map((l) => progressRow(l.digest.slice(7, 19), l.done, l.size, l.state)),
  );
}

/** Pulls what the form names under the stored trust policy, then refreshes the app state. */
/** Where remembered credentials are kept: the settings table, one record per registry. */
const CREDENTIALS_KEY = 'credentials:';

export function bindPullForm(ctx: AppContext, form: HTMLFormElement, out: HTMLElement): void {
  form.addEventListener('submit', async (ev) => {
    // With the SW in control, it owns the registry path (cache, direct, proxy, offline); else the
    // page goes direct and falls back to berth serve's proxy itself.
    const viaSw = navigator.serviceWorker?.controller ? registryPathFetch(location.origin) : undefined;
    const proxyFetch = viaSw ?? corsFallbackFetch(location.origin);
    ev.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector('button')!;
    button.disabled = true;
    // Rendered last before the outcome is appended: a frame still to come would replace it.
    const progress = perFrame((p: PullProgress) => out.replaceChildren(progressRows(p)));
    try {
      const ref = parseReference(String(data.get('ref')));
      const user = String(data.get('user') ?? '');
      const password = String(data.get('password') ?? '');
      const remember = data.get('remember') === 'on';
      const settings = ctx.records.table<Credentials>(RecordTable.Settings);
      const key = `${CREDENTIALS_KEY}${ref.registry}`;
      // Typed credentials win; else the ones remembered for this registry, if the user asked for that.
      const creds = user ? { username: user, password } : await settings.get(key);
      const client = new RegistryClient({
        fetch: proxyFetch,
        credentials: (r) => (creds && r === ref.registry ? creds : undefined),
      });
      const record = await pullImage(ctx.images, client, ref, {
        onProgress: progress,
        estimate: navigator.storage?.estimate ? () => navigator.storage.estimate() : undefined,
        policy: await loadTrustPolicy(ctx.records),
      });
      progress.flush();
      if (user && remember) await settings.put(key, { username: user, password });
      else if (user) await settings.delete(key);
      const routes = viaSw?.routes.get(ref.registry);
      const proxied = viaSw
        ? routes?.has('proxy')
        : (proxyFetch as ReturnType<typeof corsFallbackFetch>).proxied.has(ref.registry);
      const route = proxied
        ? ` through berth’s registry proxy (${
            viaSw
              ? explainCors([...viaSw.cors.values()], location.origin, !!creds)
              : 'the registry allows no cross-origin requests'
          })`
        : routes && !routes.has('direct')
          ? ` from berth’s store${routes.has('offline') ? ' (offline)' : ''}`
          : ' directly from the registry';
      if (window.berth) window.berth.registryLog = viaSw?.log ?? [];
      out.append(h('p', { class: 'ok' }, `Pulled ${record.ref} (${record.digest.slice(0, 19)})${route}.`));
      void ctx.refresh();
    } catch (e) {
      progress.flush();
      const message = e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e);
      out.append(h('p', { class: 'error', role: 'alert' }, writtenOut(`Pull failed: ${message}`)));
    } finally {
      button.disabled = false;
    }
  });
}
