// The berth page: shows stored images and services, hosts the worker pool the Service Worker hands
// /svc requests to, and reports storage use. The app context (one database connection, the stores
// over it, the worker pool and the page state) is made here once and handed to every view; views
// render from the state's stores and never read each other's DOM.
import { writtenOut } from './dom.ts';
import './style.css';
import { openBerthDb } from '../runtime/content/index.ts';
import { bindArchiveLoading, downloadSetup, importSeedLink } from './archive-view.ts';
import { createAppContext, type AppContext, type StatusState } from './context.ts';
import { bindImagesView, pruneCompiled } from './images-view.ts';
import { bindPullForm } from './pull-view.ts';
import { bindServiceForm, bindServicesView } from './services-view.ts';
import {
  bindInstallButton,
  bindNetworkBadge,
  bindPersistButton,
  bindStorageView,
  bindUpdateBanner,
} from './shell-view.ts';
import { bindEngineNotes } from './engine-notes.ts';
import { answerRunRequests, registerServiceWorker, requestSeed } from './sw-bridge.ts';
import { bindTerminal } from './terminal-view.ts';
import { bindTrustForm } from './trust-view.ts';
import { bindVolumesView } from './volumes-view.ts';

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const statusEl = byId('status');
function setStatus(text: string, state: StatusState = 'ok'): void {
  // Messages quote what others chose (a registry's errors, a tar entry's name).
  statusEl.textContent = writtenOut(text);
  statusEl.dataset.state = state;
}

declare global {
  interface Window {
    /** For the console and the e2e tests: the pool (how many requests it ran) and the app context. */
    berth?: { pool: AppContext['pool']; ctx: AppContext; registryLog?: { path: string; route: string }[] };
    /** When the stored images, services and storage use were first on the page: ms since navigation start. */
    __berthFirstRenderMs?: number;
  }
}

/** Records the first render of the stored state (a performance measure, the console, a window global). */
function markFirstRender(): void {
  const end = performance.mark('berth:first-render');
  const fromScript = performance.measure('berth:first-render', 'berth:start', 'berth:first-render').duration;
  window.__berthFirstRenderMs = Math.round(end.startTime);
  console.info(
    `berth: first render ${Math.round(end.startTime)} ms after navigation start ` +
      `(${Math.round(fromScript)} ms after the app script started)`,
  );
}

/** The views that need only the database: they render as soon as it is read, before the SW is up. */
function bindStateViews(ctx: AppContext): void {
  bindImagesView(ctx, { list: byId('images'), runOutput: byId('run-output'), files: byId('files') });
  bindServicesView(ctx, byId('services'), byId<HTMLFormElement>('service-form'));
  bindStorageView(byId('storage'), ctx.state.storage);
  void bindEngineNotes(byId('engine-notes'), ctx.db);
  bindVolumesView(ctx, byId('volumes'), byId<HTMLButtonElement>('volumes-refresh'));
  bindNetworkBadge(byId('network'));
  bindInstallButton(byId<HTMLButtonElement>('install'));
  bindPersistButton(byId<HTMLButtonElement>('persist'), byId('persist-status'), ctx.refreshStorage);
}

/** The forms that pull, load and create: bound once the SW controls the page. */
function bindForms(ctx: AppContext): void {
  bindPullForm(ctx, byId<HTMLFormElement>('pull-form'), byId('pull-progress'));
  bindArchiveLoading(ctx, byId('load-zone'), byId<HTMLInputElement>('load-input'), byId('load-status'));
  byId('export-setup').addEventListener('click', () => void downloadSetup(ctx));
  bindServiceForm(ctx, byId<HTMLFormElement>('service-form'), byId('service-form-status'));
}

/** A workshop link, `/?seed=<url>`: imports what it points at. True if the page had one. */
async function importWorkshopLink(ctx: AppContext): Promise<boolean> {
  const seed = new URLSearchParams(location.search).get('seed');
  if (!seed) return false;
  try {
    const summary = await importSeedLink(new URL(seed, location.href).href, ctx, (t) => setStatus(t, 'busy'));
    history.replaceState(null, '', location.pathname);
    await ctx.refresh();
    setStatus(summary ? `Workshop link ${summary}` : 'The workshop link was not imported.');
  } catch (e) {
    setStatus(`The workshop link could not be imported: ${e instanceof Error ? e.message : String(e)}`, 'error');
  }
  return true;
}

async function start(): Promise<void> {
  performance.mark('berth:start');
  setStatus('Starting the Service Worker…', 'busy');
  const ctx = createAppContext(await openBerthDb(), { setStatus });
  bindStateViews(ctx);
  await ctx.refresh();
  markFirstRender();

  const wb = await registerServiceWorker();
  if (!wb) {
    setStatus('This browser has no Service Workers: berth cannot run here.', 'error');
    return;
  }
  bindUpdateBanner(byId('update'), byId<HTMLButtonElement>('update-reload'));
  answerRunRequests(ctx.pool);
  bindForms(ctx);
  window.berth = { pool: ctx.pool, ctx };
  setStatus('Importing the example images…', 'busy');
  await requestSeed();
  await ctx.refresh();
  await bindTrustForm(ctx.records, byId<HTMLFormElement>('trust-form'), byId('trust-status'));
  bindTerminal(byId('terminal-section'), ctx);
  const hadLink = await importWorkshopLink(ctx);
  const online = () => setStatus(navigator.onLine ? 'Ready.' : 'Ready (offline).');
  window.addEventListener('online', online);
  window.addEventListener('offline', online);
  if (!hadLink) online();
  document.body.dataset.ready = 'true';
  void pruneCompiled(ctx);
}

start().catch((e: unknown) => {
  console.error(e);
  setStatus(`berth failed to start: ${e instanceof Error ? e.message : String(e)}`, 'error');
});
