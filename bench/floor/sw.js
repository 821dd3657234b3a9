// The floor Service Worker: /floor/direct answers at once; /floor/relay goes to a window of this
// origin, which asks its dedicated worker, and comes back (a new MessageChannel per request, sent
// with Client.postMessage); /floor/relay-port makes the same hop on ports the window gave once;
// /floor/worker-port goes to the worker on a channel the window made once, not through the window.
// The `-db` variants first do what a request to a service with a volume needs at least: read a
// record in one IndexedDB transaction, then write it back in another (here, or in the worker).
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

importScripts('./floor-db.js');

/** Window ports by client id, and the answers they owe by request id. */
const ports = new Map();
const owed = new Map();
let nextId = 0;
let workerPort;
self.addEventListener('message', (ev) => {
  if (ev.data?.kind !== 'port' && ev.data?.kind !== 'worker-port') return;
  const port = ev.ports[0];
  if (ev.data.kind === 'worker-port') workerPort = port;
  port.onmessage = (m) => {
    owed.get(m.data.id)?.(m.data.body);
    owed.delete(m.data.id);
  };
  if (ev.data.kind === 'port') ports.set(ev.source.id, port);
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const path = url.pathname;
  if (path.endsWith('/floor/direct')) event.respondWith(new Response('x'));
  else if (path.endsWith('/floor/direct-db')) event.respondWith(floorDb.readWrite().then((b) => new Response(b)));
  else if (path.endsWith('/floor/relay') || path.endsWith('/floor/relay-db'))
    event.respondWith(
      (async () => {
        const [win] = await self.clients.matchAll({ type: 'window' });
        const channel = new MessageChannel();
        const answer = new Promise((r) => (channel.port1.onmessage = (m) => r(m.data)));
        win.postMessage({ kind: 'job', path }, [channel.port2]);
        return new Response(await answer);
      })(),
    );
  else if (/\/floor\/(relay|worker)-port(-db)?$/.test(path))
    event.respondWith(
      (async () => {
        const port = path.includes('/floor/worker-port')
          ? workerPort
          : (ports.get(event.clientId) ?? [...ports.values()][0]);
        const id = nextId++;
        const answer = new Promise((r) => owed.set(id, r));
        port.postMessage({ id, path });
        return new Response(await answer);
      })(),
    );
});
