// The page side of the Service Worker: registration, waiting for control, answering run requests
// with the worker pool, and asking the SW to import the seed images.
import { Workbox } from 'workbox-window';
import { isRunRequest, type RunReply } from '../runtime/protocol/index.ts';
import type { WorkerPool } from './worker-pool.ts';

export async function registerServiceWorker(): Promise<Workbox | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  const wb = new Workbox('/sw.js');
  await wb.register();
  if (!navigator.serviceWorker.controller) {
    await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
  }
  return wb;
}

export function answerRunRequests(pool: WorkerPool): void {
  navigator.serviceWorker.addEventListener('message', (ev: MessageEvent) => {
    if (!isRunRequest(ev.data)) return;
    const port = ev.ports[0];
    const { job } = ev.data;
    const reply = (m: RunReply) => port.postMessage(m);
    reply({ type: 'berth:accepted', id: job.id });
    pool
      .serve(job, {
        head: (head) => reply({ type: 'berth:head', id: job.id, head }),
        body: (chunk) => port.postMessage({ type: 'berth:body', id: job.id, chunk } satisfies RunReply, [chunk.buffer]),
      })
      .then((summary) => reply({ type: 'berth:end', id: job.id, summary }));
  });
  navigator.serviceWorker.startMessages();
}

/** Asks the SW to import the seed images (idempotent); resolves when they are stored. */
export function requestSeed(): Promise<void> {
  return new Promise((resolve, reject) => {
    const sw = navigator.serviceWorker.controller;
    if (!sw) return reject(new Error('no Service Worker controls this page'));
    const onMessage = (ev: MessageEvent) => {
      const t = (ev.data as { type?: string } | null)?.type;
      if (t === 'berth:seeded' || t === 'berth:seed-failed') {
        navigator.serviceWorker.removeEventListener('message', onMessage);
        if (t === 'berth:seeded') resolve();
        else reject(new Error((ev.data as { message: string }).message));
      }
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
    sw.postMessage({ type: 'berth:seed' });
  });
}
