// The floors' record read and write, as `self.floorDb` (importScripts'd by sw.js and worker.js): what
// a request to a service with a volume needs at least, a record read in one IndexedDB transaction
// and written back in another.
let dbPromise;
const openFloorDb = () =>
  (dbPromise ??= new Promise((resolve, reject) => {
    const r = indexedDB.open('floor', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  }));
const requestDone = (r) =>
  new Promise((ok, ko) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => ko(r.error))));
async function readWrite() {
  const d = await openFloorDb();
  const n = (await requestDone(d.transaction('kv').objectStore('kv').get('n'))) ?? 0;
  const tx = d.transaction('kv', 'readwrite');
  tx.objectStore('kv').put(n + 1, 'n');
  tx.commit();
  await new Promise((ok, ko) => ((tx.oncomplete = ok), (tx.onerror = () => ko(tx.error))));
  return String(n + 1);
}

self.floorDb = { open: openFloorDb, readWrite };
