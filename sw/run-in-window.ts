// Hands a request to an open app window, whose pool runs it in a dedicated worker (a Service Worker
// cannot start workers). The Response is returned as soon as the head arrives; its body streams in
// as the program writes it. Resolves undefined when no window takes the job in time, so the caller
// can run it here instead.
import type { ResponseHead, ServeSummary } from '../runtime/serve/index.ts';
import type { RunJob, RunReply } from '../runtime/protocol/index.ts';

declare const self: ServiceWorkerGlobalScope;

const ACCEPT_TIMEOUT_MS = 1500;
/** Beyond the job's own deadline (the window enforces that one), in case the window goes away. */
const GRACE_MS = 5000;

/** App windows: controlled windows showing the app shell, not a /svc/ page. */
export async function appWindows(): Promise<WindowClient[]> {
  const all = await self.clients.matchAll({ type: 'window' });
  return all.filter((c) => {
    const u = new URL(c.url);
    return u.origin === self.location.origin && (u.pathname === '/' || u.pathname === '/index.html');
  });
}

export interface WindowRun {
  head: ResponseHead;
  body: ReadableStream<Uint8Array>;
  done: Promise<ServeSummary>;
}

export async function runInWindow(job: RunJob): Promise<WindowRun | undefined> {
  for (const client of await appWindows()) {
    const run = await tryClient(client, job);
    if (run) return run;
  }
  return undefined;
}

function tryClient(client: WindowClient, job: RunJob): Promise<WindowRun | undefined> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const port = channel.port1;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let settleDone!: (s: ServeSummary) => void;
    const done = new Promise<ServeSummary>((r) => (settleDone = r));
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    let state: 'waiting' | 'accepted' | 'streaming' | 'ended' = 'waiting';
    const end = (summary: ServeSummary, error?: Error) => {
      if (state === 'ended') return;
      const wasStreaming = state === 'streaming';
      state = 'ended';
      clearTimeout(acceptTimer);
      clearTimeout(deadline);
      port.close();
      if (wasStreaming) {
        if (error) controller.error(error);
        else controller.close();
      }
      settleDone(summary);
    };
    const acceptTimer = setTimeout(() => {
      if (state === 'waiting') {
        end({ status: 0, stderrTail: '' });
        resolve(undefined);
      }
    }, ACCEPT_TIMEOUT_MS);
    const deadline = setTimeout(() => {
      const text = `the app window stopped answering for service ${job.service}\n`;
      if (state === 'accepted') {
        resolve({ head: { status: 504, statusText: 'Gateway Timeout', headers: [['content-type', 'text/plain; charset=utf-8']] }, body: new Blob([text]).stream(), done });
      }
      end({ status: 504, stderrTail: text }, new Error(text));
    }, job.timeoutMs + GRACE_MS);
    port.onmessage = (ev: MessageEvent<RunReply>) => {
      const m = ev.data;
      if (m.type === 'berth:accepted') {
        state = 'accepted';
        clearTimeout(acceptTimer);
      } else if (m.type === 'berth:head') {
        state = 'streaming';
        resolve({ head: m.head, body, done });
      } else if (m.type === 'berth:body') {
        if (state === 'streaming') controller.enqueue(m.chunk);
      } else if (m.type === 'berth:end') {
        end(m.summary);
      }
    };
    client.postMessage({ type: 'berth:run', job }, [channel.port2]);
  });
}
