// Sharing images from the page: Save downloads an OCI image-layout tar; an archive (OCI layout or
// docker save tar) chosen with the file picker or dropped on the page is loaded into the store.
import { RuntimeError } from '../runtime/core/index.ts';
import type { RecordStoreFactory } from '../runtime/content/index.ts';
import { exportSetup, importFromLink, importSetupArchive } from '../runtime/serve/index.ts';
import { saveImages, type ImageRecord, type ImageStore } from '../runtime/images/index.ts';
import { formatReference, parseReference } from '../runtime/registry/index.ts';

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
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
export async function downloadSetup(deps: { content: ImageStore['content']; records: RecordStoreFactory }): Promise<void> {
  download(await exportSetup(deps), `berth-setup-${new Date().toISOString().slice(0, 10)}.tar`);
}

/** A workshop link, `/?seed=<url>`: imports what it points at, with progress, and binds its services. */
export async function importSeedLink(url: string, deps: { content: ImageStore['content']; records: RecordStoreFactory }, status: (text: string) => void): Promise<string> {
  const r = await importFromLink(deps, url, fetch, (p) => status(`Importing ${p.ref}: ${Math.round((100 * p.done) / Math.max(1, p.total))}%`));
  return `imported ${r.images.map((i) => i.ref).join(', ') || 'no images'}${r.services.length ? `; services ${r.services.join(', ')}` : ''}.`;
}

function loosely(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

export function bindArchiveLoading(zone: HTMLElement, input: HTMLInputElement, status: HTMLElement, deps: () => Promise<{ content: ImageStore['content']; records: RecordStoreFactory }>, onLoaded: () => void): void {
  const load = async (file: File) => {
    status.textContent = `Loading ${file.name}…`;
    try {
      const loaded = await importSetupArchive(await deps(), file.stream(), {
        normalizeRef: loosely,
        onProgress: (p) => (status.textContent = `Loading ${p.ref}: ${Math.round((100 * p.done) / Math.max(1, p.total))}%`),
      });
      status.textContent = `Loaded ${loaded.images.map((i) => i.ref).join(', ')}${loaded.services.length ? `; services ${loaded.services.join(', ')}` : ''}.`;
      onLoaded();
    } catch (e) {
      status.textContent = `Cannot load ${file.name}: ${e instanceof RuntimeError ? `${e.message} (${e.code})` : String(e)}`;
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
