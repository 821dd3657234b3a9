// The floor Service Worker: /floor/direct answers at once; /floor/relay goes to a window of this
// origin, which asks its dedicated worker, and comes back.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.pathname.endsWith('/floor/direct')) event.respondWith(new Response('x'));
  else if (url.pathname.endsWith('/floor/relay'))
    event.respondWith(
      (async () => {
        const [win] = await self.clients.matchAll({ type: 'window' });
        const channel = new MessageChannel();
        const answer = new Promise((r) => (channel.port1.onmessage = (m) => r(m.data)));
        win.postMessage({ kind: 'job', path: url.pathname }, [channel.port2]);
        return new Response(await answer);
      })(),
    );
});
