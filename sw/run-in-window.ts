// Hands a request to an open app window, whose pool runs it in a dedicated worker (a Service Worker
// cannot start workers). Resolves undefined when no window takes the job in time, so the caller can
// run it here instead.
import type { HttpResponseData, RunJob, RunReply } from '../runtime/host/index.ts';

declare const self: ServiceWorkerGlobalScope;

const ACCEPT_TIMEOUT_MS = 1500;

/** App windows: controlled windows showing the app shell, not a /svc/ page. */
export async function appWindows(): Promise<WindowClient[]> {
  const all = await self.clients.matchAll({ type: 'window' });
  return all.filter((c) => {
    const u = new URL(c.url);
    return u.origin === self.location.origin && (u.pathname === '/' || u.pathname === '/index.html');
  });
}

export async function runInWindow(job: RunJob): Promise<HttpResponseData | undefined> {
  for (const client of await appWindows()) {
    const response = await tryClient(client, job);
    if (response) return response;
  }
  return undefined;
}

function tryClient(client: WindowClient, job: RunJob): Promise<HttpResponseData | undefined> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    let accepted = false;
    const timer = setTimeout(() => {
      if (!accepted) {
        channel.port1.close();
        resolve(undefined);
      }
    }, ACCEPT_TIMEOUT_MS);
    channel.port1.onmessage = (ev: MessageEvent<RunReply>) => {
      if (ev.data.type === 'berth:accepted') {
        accepted = true;
        clearTimeout(timer);
      } else if (ev.data.type === 'berth:done') {
        channel.port1.close();
        resolve(ev.data.response);
      }
    };
    client.postMessage({ type: 'berth:run', job }, [channel.port2]);
  });
}
