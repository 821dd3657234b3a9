// The floor's dedicated worker: answers each job at once, or after the record read and write of a
// `-db` job (bench/floor/sw.js); on the job's port, or by id on its own channel.
let db;
const openDb = () =>
  (db ??= new Promise((resolve, reject) => {
    const r = indexedDB.open('floor', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  }));
const done = (r) => new Promise((ok, ko) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => ko(r.error))));
async function readWrite() {
  const d = await openDb();
  const n = (await done(d.transaction('kv').objectStore('kv').get('n'))) ?? 0;
  const tx = d.transaction('kv', 'readwrite');
  tx.objectStore('kv').put(n + 1, 'n');
  tx.commit();
  await new Promise((ok, ko) => ((tx.oncomplete = ok), (tx.onerror = () => ko(tx.error))));
  return String(n + 1);
}
openDb();
self.onmessage = async (ev) => {
  const body = ev.data.path.endsWith('-db') ? await readWrite() : 'x';
  if (ev.ports[0]) ev.ports[0].postMessage(body);
  else self.postMessage({ id: ev.data.id, body });
};
