// What this browser lacks of what berth uses, found by feature detection (never by user agent), and
// what that changes for the user. Shown under Storage; empty where nothing is degraded.
import { probeBlobStorage } from '../runtime/content/index.ts';
import type { BerthDb } from '../runtime/content/index.ts';

export interface EngineFeatures {
  /** JSPI: `WebAssembly.Suspending` and `WebAssembly.promising`. */
  jspi: boolean;
  /** Whether IndexedDB here keeps Blobs (WebKit's ephemeral sessions refuse them). */
  blobs: 'blob' | 'bytes';
  /** `navigator.storage.persist`. */
  persist: boolean;
}

export function engineNotes(f: EngineFeatures): string[] {
  const notes: string[] = [];
  if (!f.jspi)
    notes.push(
      'No JSPI (WebAssembly.Suspending) in this browser: with no berth window open, services run in the ' +
        'Service Worker without pausing, so each layer a request reads is loaded whole, a sleep spins until ' +
        'it ends, a response arrives whole instead of streamed, and wasi:http handlers cannot make outgoing ' +
        'requests there. Keep a berth window open for the full path.',
    );
  if (f.blobs === 'bytes')
    notes.push(
      'This browser session does not keep files in IndexedDB (a private window?): images are stored as bytes, ' +
        'each run reads the layers it uses whole into memory, and everything is gone when the session ends.',
    );
  if (!f.persist) notes.push('This browser cannot be asked to keep berth’s data: it may clear it when space runs low.');
  return notes;
}

export async function detectEngineFeatures(db: BerthDb): Promise<EngineFeatures> {
  const w = WebAssembly as unknown as { Suspending?: unknown; promising?: unknown };
  return {
    jspi: typeof w.Suspending === 'function' && typeof w.promising === 'function',
    blobs: await probeBlobStorage(db),
    persist: typeof navigator.storage?.persist === 'function',
  };
}

export async function bindEngineNotes(list: HTMLElement, db: BerthDb): Promise<void> {
  const notes = engineNotes(await detectEngineFeatures(db));
  list.replaceChildren(
    ...notes.map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
  list.hidden = notes.length === 0;
}
