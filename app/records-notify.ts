// The page's side of the SW's record cache (sw/sw-context.ts keeps service records in memory): after
// a write to the services table is committed, the SW that controls this page is told, and the write
// resolves once it answers, so this page's next /svc request sees it. A SW that does not control
// this page (another tab's) hears it on RECORDS_CHANNEL.
import type { RecordWriteHook } from '../runtime/content/index.ts';
import { RECORDS_CHANNEL, type RecordsChanged } from '../runtime/protocol/index.ts';

/** A SW that does not answer in this long (busy with a run that cannot pause) is not waited for. */
const ANSWER_MS = 1000;

export function notifyServiceWorker(): RecordWriteHook {
  let channel: BroadcastChannel | undefined;
  return (table, keys) => {
    const message: RecordsChanged = { type: 'berth:records-changed', table, keys };
    (channel ??= new BroadcastChannel(RECORDS_CHANNEL)).postMessage(message);
    const sw = navigator.serviceWorker?.controller;
    if (!sw) return;
    return new Promise<void>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      const done = () => {
        clearTimeout(timer);
        port1.close();
        resolve();
      };
      const timer = setTimeout(done, ANSWER_MS);
      port1.onmessage = done;
      sw.postMessage(message, [port2]);
    });
  };
}
