// The floor's dedicated worker: answers each job at once, or after the record read and write of a
// `-db` job (bench/floor/sw.js); on the job's port, or by id on its own channel.
importScripts('./floor-db.js');
floorDb.open();
self.onmessage = async (ev) => {
  if (ev.data.kind === 'port') {
    const sw = ev.ports[0];
    sw.onmessage = async (m) => {
      const body = m.data.path.endsWith('-db') ? await floorDb.readWrite() : 'x';
      sw.postMessage({ id: m.data.id, body });
    };
    return;
  }
  const body = ev.data.path.endsWith('-db') ? await floorDb.readWrite() : 'x';
  if (ev.ports[0]) ev.ports[0].postMessage(body);
  else self.postMessage({ id: ev.data.id, body });
};
