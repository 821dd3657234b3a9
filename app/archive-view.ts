// Sharing images from the page: Save downloads an OCI image-layout tar; an archive (OCI layout or
// docker save tar) chosen with the file picker or dropped on the page is loaded into the store.
import { writtenOut } from './dom.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import type { RecordStoreFactory } from '../runtime/content/index.ts';
import { exportSetup, importSetupArchive, prepareLink } from '../runtime/serve/index.ts';
import { saveImages, type ImageRecord, type ImageStore } from '../runtime/images/index.ts';
import { formatReference, parseReference } from '../runtime/registry/index.ts';
import type { AppContext } from './context.ts';
import { confirmLink } from './link-dialog.ts';
import { loadTrustPolicy } from './trust-view.ts';
import { prepareServices } from './services-view.ts';

/** What importing and exporting need: the content store and the record tables. */
type Stores = { content: ImageStore['content']; records: RecordStoreFactory };

export function download(bytes: Uint8Array, name: string): void {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function downloadImage(store: ImageStore, image: ImageRecord): Promise<void> {
  download(await saveImages(store, [image.ref]), `${image.ref.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`);
}

/** Every image and service in one file another laptop imports. */
export async function downloadSetup(deps: Stores): Promise<void> {
  download(await exportSetup(deps), `berth-setup-${new Date().toISOString().slice(0, 10)}.tar`);
}

/**
 * A workshop link, `/?seed=<url>`: reads what it points at, shows it, and imports it (under the
 * user's trust policy) only when the user confirms. Resolves the summary, or undefined if declined.
 */
export async function importSeedLink(
  url: string,
  deps: Stores,
  status: (text: string) => void,
): Promise<string | undefined> {
  status(`Reading the link ${url}…`);
  const link = await prepareLink(deps, url);
  const choices = await confirmLink(link.plan, link.defaultVolumes);
  if (!choices) return undefined;
  const r = await link.apply(choices, (p) => status(`Importing ${p.ref}: ${percent(p)}`));
  const services = r.services.length ? `; services ${r.services.join(', ')}` : '';
  let ready = '';
  if (r.services.length && 'pool' in deps) {
    status('Preparing the services…');
    const prepared = await prepareServices(deps as AppContext, r.services);
    if (prepared.errors.length) ready = ` Not prepared: ${prepared.errors.join('; ')}.`;
  }
  return `imported ${r.images.map((i) => i.ref).join(', ') || 'no images'}${services}.${ready}`;
}

function percent(p: { done: number; total: number }): string {
  return `${Math.round((100 * p.done) / Math.max(1, p.total))}%`;
}

function loosely(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

/** The file picker and the drop zone: an archive chosen or dropped is loaded, then the state refreshed. */
export function bindArchiveLoading(
  ctx: AppContext,
  zone: HTMLElement,
  input: HTMLInputElement,
  status: HTMLElement,
): void {
  const load = async (file: File) => {
    status.textContent = `Loading ${file.name}…`;
    try {
      const policy = await loadTrustPolicy(ctx.records);
      const loaded = await importSetupArchive(ctx, file.stream(), {
        ...(policy ? { policy } : {}),
        normalizeRef: loosely,
        onProgress: (p) => (status.textContent = `Loading ${p.ref}: ${percent(p)}`),
      });
      const services = loaded.services.length ? `; services ${loaded.services.join(', ')}` : '';
      const said = `Loaded ${loaded.images.map((i) => i.ref).join(', ')}${services}.`;
      void ctx.refresh();
      // "Loaded" once the services are ready to serve: a component among them is transpiled first
      // (requests made meanwhile would share the pool's workers with that work).
      let ready = '';
      if (loaded.services.length) {
        status.textContent = `Preparing ${loaded.services.join(', ')}…`;
        const prepared = await prepareServices(ctx, loaded.services);
        if (prepared.components.length) ready += ` Components ready: ${prepared.components.join(', ')}.`;
        if (prepared.errors.length) ready += ` Not prepared: ${prepared.errors.join('; ')}.`;
      }
      status.textContent = writtenOut(said + ready);
    } catch (e) {
      const message = e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e);
      status.textContent = writtenOut(`Cannot load ${file.name}: ${message}`);
    }
  };
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) void load(f);
    input.value = '';
  });
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    const f = ev.dataTransfer?.files[0];
    if (f) void load(f);
  });
}
