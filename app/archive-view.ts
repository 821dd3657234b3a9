// Sharing images from the page: Save downloads an OCI image-layout tar; an archive (OCI layout or
// docker save tar) chosen with the file picker or dropped on the page is loaded into the store.
import { RuntimeError } from '../runtime/core/index.ts';
import { loadImages, saveImages, type ImageRecord, type ImageStore } from '../runtime/images/index.ts';
import { formatReference, parseReference } from '../runtime/registry/index.ts';

export async function downloadImage(store: ImageStore, image: ImageRecord): Promise<void> {
  const tar = await saveImages(store, [image.ref]);
  const url = URL.createObjectURL(new Blob([tar as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${image.ref.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function loosely(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

export function bindArchiveLoading(zone: HTMLElement, input: HTMLInputElement, status: HTMLElement, images: () => Promise<ImageStore>, onLoaded: () => void): void {
  const load = async (file: File) => {
    status.textContent = `Loading ${file.name}…`;
    try {
      const loaded = await loadImages(await images(), file.stream(), {
        normalizeRef: loosely,
        onProgress: (p) => (status.textContent = `Loading ${p.ref}: ${Math.round((100 * p.done) / Math.max(1, p.total))}%`),
      });
      status.textContent = `Loaded ${loaded.map((i) => i.ref).join(', ')}.`;
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
