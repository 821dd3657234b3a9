// The berth page: shows stored images and services, hosts the worker pool the Service Worker hands
// /svc requests to, and reports storage use.
import './style.css';
import { IdbContentStore, IdbRecords, openBerthDb, RecordTable } from '../runtime/content/index.ts';
import { ImageStore, removeImage, type ImageRecord } from '../runtime/images/index.ts';
import type { ServiceRecord } from '../runtime/serve/index.ts';
import { formatBytes, h } from './dom.ts';
import { answerRunRequests, registerServiceWorker, requestSeed } from './sw-bridge.ts';
import { WorkerPool } from './worker-pool.ts';
import { bindPullForm } from './pull-view.ts';
import { showFiles } from './files-view.ts';
import { bindInstallButton, bindNetworkBadge, bindPersistButton, bindUpdateBanner, renderStorage } from './shell-view.ts';
import { bindTrustForm, loadTrustPolicy } from './trust-view.ts';
import { bindArchiveLoading, downloadImage, downloadSetup, importSeedLink } from './archive-view.ts';
import { bindServiceForm, editService, fillImageSelect, renderServices } from './services-view.ts';
import { bindTerminal } from './terminal-view.ts';

const statusEl = document.getElementById('status')!;
const imagesEl = document.getElementById('images')!;
const servicesEl = document.getElementById('services')!;
const storageEl = document.getElementById('storage')!;
const runOutputEl = document.getElementById('run-output')!;
let pool: WorkerPool | undefined;
let currentImages: ImageRecord[] = [];

let db: ReturnType<typeof openBerthDb> | undefined;
async function openImages(): Promise<ImageStore> {
  const d = await (db ??= openBerthDb());
  return new ImageStore({ content: new IdbContentStore(d), records: new IdbRecords(d) });
}

async function runImageInPool(img: ImageRecord): Promise<void> {
  if (!pool) return;
  runOutputEl.textContent = `Running ${img.ref}…`;
  const r = await pool.runImage({ id: String(Date.now()), image: img.digest });
  const dec = new TextDecoder();
  runOutputEl.textContent = `$ ${img.ref}\n${dec.decode(r.stdout)}${dec.decode(r.stderr)}\n[exit code ${r.exitCode}${r.trap ? `, trapped: ${r.trap}` : ''}]`;
}

async function removeAndRefresh(img: ImageRecord): Promise<void> {
  const r = await removeImage(await openImages(), img.ref);
  setStatus(`Removed ${img.ref}; freed ${formatBytes(r.freedBytes)}.`);
  await refresh();
}

function setStatus(text: string, state: 'busy' | 'ok' | 'error' = 'ok'): void {
  statusEl.textContent = text;
  statusEl.dataset.state = state;
}

function renderImages(images: ImageRecord[]): void {
  imagesEl.replaceChildren(
    images.length === 0
      ? h('p', {}, 'No images yet.')
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Reference'), h('th', { scope: 'col' }, 'Digest'), h('th', { scope: 'col' }, 'Platform'), h('th', { scope: 'col' }, 'Layers'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h(
            'tbody',
            {},
            ...images.map((img) =>
              h(
                'tr',
                { 'data-ref': img.ref },
                h('td', {}, img.ref),
                h('td', { title: img.digest }, h('code', {}, img.digest.slice(0, 19))),
                h('td', {}, `${img.platform.os}/${img.platform.architecture}`),
                h('td', {}, img.layers.length),
                h('td', {}, formatBytes(img.size)),
                h(
                  'td',
                  { class: 'actions' },
                  h('button', { type: 'button', 'data-action': 'run', onclick: () => void runImageInPool(img) }, 'Run'),
                  ' ',
                  h('button', { type: 'button', class: 'secondary', 'data-action': 'files', onclick: async () => showFiles(document.getElementById('files')!, await openImages(), img) }, 'Files'),
                  ' ',
                  h('button', { type: 'button', class: 'secondary', 'data-action': 'save', onclick: async () => downloadImage(await openImages(), img) }, 'Save'),
                  ' ',
                  h('button', { type: 'button', class: 'secondary', 'data-action': 'remove', onclick: () => void removeAndRefresh(img) }, 'Remove'),
                ),
              ),
            ),
          ),
        ),
  );
}


async function refresh(): Promise<void> {
  const store = await openImages();
  const images = await store.list();
  const table = new IdbRecords(await db!).table<ServiceRecord>(RecordTable.Services);
  const services = (await Promise.all((await table.keys()).map((k) => table.get(k)))).filter((s): s is ServiceRecord => !!s);
  renderImages(images);
  currentImages = images;
  fillImageSelect(document.querySelector<HTMLSelectElement>('#service-form select[name="image"]')!, images);
  const records = new IdbRecords(await db!);
  renderServices(servicesEl, services, records, {
    edit: (svc) => editService(document.getElementById('service-form') as HTMLFormElement, svc),
    remove: async (svc) => {
      if (!confirm(`Delete the service ${svc.name}? Its volumes and their data stay.`)) return;
      await records.table<ServiceRecord>(RecordTable.Services).delete(svc.name);
      setStatus(`Deleted the service ${svc.name}.`);
      await refresh();
    },
  });
  await renderStorage(storageEl);
}

async function start(): Promise<void> {
  setStatus('Starting the Service Worker…', 'busy');
  const wb = await registerServiceWorker();
  if (!wb) {
    setStatus('This browser has no Service Workers: berth cannot run here.', 'error');
    return;
  }
  bindNetworkBadge(document.getElementById('network')!);
  bindInstallButton(document.getElementById('install') as HTMLButtonElement);
  bindUpdateBanner(document.getElementById('update')!, document.getElementById('update-reload') as HTMLButtonElement);
  bindPersistButton(document.getElementById('persist') as HTMLButtonElement, document.getElementById('persist-status')!, storageEl);
  pool = new WorkerPool();
  answerRunRequests(pool);
  const deps = async () => {
    const d = await (db ??= openBerthDb());
    return { content: new IdbContentStore(d), records: new IdbRecords(d) };
  };
  bindPullForm(document.getElementById('pull-form') as HTMLFormElement, document.getElementById('pull-progress')!, openImages, () => void refresh(), async () => loadTrustPolicy((await deps()).records));
  bindArchiveLoading(document.getElementById('load-zone')!, document.getElementById('load-input') as HTMLInputElement, document.getElementById('load-status')!, deps, () => void refresh());
  document.getElementById('export-setup')!.addEventListener('click', async () => downloadSetup(await deps()));
  bindServiceForm(document.getElementById('service-form') as HTMLFormElement, document.getElementById('service-form-status')!, async () => new IdbRecords(await (db ??= openBerthDb())), () => currentImages, () => void refresh());
  // For the console and the e2e tests: how many requests this page's pool has run.
  (window as unknown as { berth: unknown }).berth = { pool };
  setStatus('Importing the example images…', 'busy');
  await requestSeed();
  await refresh();
  await bindTrustForm(document.getElementById('trust-form') as HTMLFormElement, document.getElementById('trust-status')!, async () => (await deps()).records);
  bindTerminal(document.getElementById('terminal-section')!, pool, () => currentImages);
  const seed = new URLSearchParams(location.search).get('seed');
  if (seed) {
    try {
      const summary = await importSeedLink(new URL(seed, location.href).href, await deps(), (t) => setStatus(t, 'busy'));
      await refresh();
      setStatus(`Workshop link ${summary}`);
      history.replaceState(null, '', location.pathname);
    } catch (e) {
      setStatus(`The workshop link could not be imported: ${e instanceof Error ? e.message : String(e)}`, 'error');
    }
  }
  const online = () => setStatus(navigator.onLine ? 'Ready.' : 'Ready (offline).');
  window.addEventListener('online', online);
  window.addEventListener('offline', online);
  if (!seed) online();
  document.body.dataset.ready = 'true';
}

start().catch((e: unknown) => {
  console.error(e);
  setStatus(`berth failed to start: ${e instanceof Error ? e.message : String(e)}`, 'error');
});
