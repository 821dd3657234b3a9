// The app shell's indicators: online/offline, "berth was updated" (workbox-window), the install
// prompt, and storage use with a "Keep my data" (persistent storage) request.
import { describeStorage, type StorageInfo } from './storage-info.ts';
import type { Store } from './store.ts';

export function bindNetworkBadge(el: HTMLElement): void {
  const show = () => {
    el.textContent = navigator.onLine ? 'online' : 'offline';
    el.dataset.state = navigator.onLine ? 'online' : 'offline';
  };
  window.addEventListener('online', show);
  window.addEventListener('offline', show);
  show();
}

export function bindUpdateBanner(banner: HTMLElement, reload: HTMLButtonElement): void {
  // The SW activates new versions at once (skipWaiting + clientsClaim). Bound once this page is
  // controlled, so any later change of controller is an update taking over: offer a reload.
  // (workbox-window's 'controlling' event counts an update found by registration.update() from
  // another tab or the browser's own check as external, and does not fire for it.)
  navigator.serviceWorker.addEventListener('controllerchange', () => (banner.hidden = false));
  reload.addEventListener('click', () => location.reload());
}

interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

export function bindInstallButton(button: HTMLButtonElement): void {
  let deferred: BeforeInstallPromptEvent | undefined;
  window.addEventListener('beforeinstallprompt', (ev) => {
    ev.preventDefault();
    deferred = ev as BeforeInstallPromptEvent;
    button.hidden = false;
  });
  window.addEventListener('appinstalled', () => {
    button.hidden = true;
    deferred = undefined;
  });
  button.addEventListener('click', async () => {
    if (!deferred) return;
    await deferred.prompt();
    await deferred.userChoice;
    deferred = undefined;
    button.hidden = true;
  });
}

/** Shows storage use from its store, on every change. */
export function bindStorageView(el: HTMLElement, storage: Store<StorageInfo | undefined>): void {
  // WebKitGTK has no StorageManager at all: say so rather than show nothing.
  const none =
    typeof navigator.storage?.estimate === 'function'
      ? ''
      : 'This browser does not say how much storage berth uses or may use.';
  const show = (info: StorageInfo | undefined) => (el.textContent = info ? describeStorage(info) : none);
  show(storage.get());
  storage.subscribe(show);
}

/** "Keep my data": asks for persistent storage, then `refreshStorage` reads the storage state again. */
export function bindPersistButton(
  button: HTMLButtonElement,
  status: HTMLElement,
  refreshStorage: () => Promise<void>,
): void {
  // Where it cannot be asked (WebKitGTK), the button goes; the engine notes say why.
  if (!navigator.storage?.persist) button.hidden = true;
  button.addEventListener('click', async () => {
    if (!navigator.storage?.persist) {
      status.textContent = 'This browser cannot keep site data on request.';
      return;
    }
    const granted = await navigator.storage.persist();
    status.textContent = granted
      ? 'The browser will keep berth’s data.'
      : 'The browser declined for now (it grants this to installed or often-used sites); ' +
        'your data is stored as usual.';
    await refreshStorage();
  });
}
