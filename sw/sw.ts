/// <reference lib="webworker" />
// berth's Service Worker: precaches the app shell (with .wasm and the seed images), imports the seed
// images into IndexedDB on install, and routes /svc/<name>/... into WASI instances.
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from 'workbox-precaching';
import { IdbContentStore } from '../runtime/content/index.ts';
import {
  INSTALL_CHANNEL,
  type InstallFailed,
  isRecordsChanged,
  isSeedRequest,
  type RecordsSeen,
  isWindowPresence,
  type SeedReply,
} from '../runtime/protocol/index.ts';
import { pruneModuleCaches } from '../runtime/run/module-cache.ts';
import { importSeed } from '../runtime/serve/index.ts';
import { berthDb, recordsChanged, setServiceFetch, swRecords } from './sw-context.ts';
import { windowPresence } from './run-in-window.ts';
import { fetchForService, handleSvc } from './svc-handler.ts';
import { svcName } from './svc-name.ts';
import { registerStdinRoute } from './stdin-route.ts';
import { handleRegistry, registryPath } from './registry-route.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

// Every method reaches a service (workbox's router knows no OPTIONS), so this is a plain listener.
// It is added before workbox's: a request it answers stops there, without workbox matching its URL
// against the precache (its URL variations cost about 0.1 ms of each /svc request).
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  const name = svcName(url);
  if (name !== undefined) {
    event.stopImmediatePropagation();
    return event.respondWith(handleSvc(event, name, ensureSeeded()));
  }
  const registry = registryPath(url);
  if (!registry) return;
  event.stopImmediatePropagation();
  event.respondWith(handleRegistry(event, registry));
});

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
self.skipWaiting();
clientsClaim();

const SEED_URL = new URL('seed/seed.json', self.registration.scope).href;

/** Imports the seed images; reads them from the precache when offline. */
async function seed(): Promise<void> {
  const d = await berthDb();
  const cachedFetch: typeof fetch = async (input, init) => (await matchPrecache(String(input))) ?? fetch(input, init);
  await importSeed({ content: new IdbContentStore(d), records: swRecords(d) }, SEED_URL, cachedFetch);
}

let seeded: Promise<void> | undefined;
function ensureSeeded(): Promise<void> {
  return (seeded ??= seed().catch((e: unknown) => {
    seeded = undefined;
    console.error('berth: importing the seed images failed', e);
    throw e;
  }));
}

function reportInstallFailure(e: unknown): void {
  const message = `importing the example images failed: ${e instanceof Error ? e.message : String(e)}`;
  const channel = new BroadcastChannel(INSTALL_CHANNEL);
  channel.postMessage({ type: 'berth:install-failed', message } satisfies InstallFailed);
  channel.close();
}

self.addEventListener('install', (event) =>
  event.waitUntil(
    ensureSeeded().catch((e: unknown) => {
      reportInstallFailure(e);
      throw e;
    }),
  ),
);
// Modules metered by an older deadline rewrite are dropped with the SW that used them.
self.addEventListener('activate', (event) =>
  event.waitUntil(pruneModuleCaches().catch((e: unknown) => console.error('berth: pruning module caches', e))),
);
self.addEventListener('message', (event) => {
  if (isWindowPresence(event.data) && event.source instanceof WindowClient)
    return windowPresence(event.source.id, event.data, event.ports[0]);
  if (isRecordsChanged(event.data)) {
    recordsChanged(event.data.table, event.data.keys);
    event.ports[0]?.postMessage({ type: 'berth:records-seen' } satisfies RecordsSeen);
    return;
  }
  if (!isSeedRequest(event.data)) return;
  const reply = (m: SeedReply) => event.source?.postMessage(m);
  event.waitUntil(
    ensureSeeded().then(
      () => reply({ type: 'berth:seeded' }),
      (e: unknown) => reply({ type: 'berth:seed-failed', message: String(e) }),
    ),
  );
});

// wasi:http handlers running here call other services (and listed hosts) through this.
setServiceFetch((r) => fetchForService(r, ensureSeeded()));

// Live stdin for the terminal's runs: page -> SW messages, worker -> SW synchronous reads.
registerStdinRoute(self);
