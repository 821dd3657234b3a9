// Hands a /svc job to an open app window, whose pool runs it in a dedicated worker (a Service Worker
// cannot start workers). The Response is returned as soon as the head arrives; its body streams in
// as the program writes it. Resolves undefined when no window takes the job in time, so the caller
// can run it here instead. Exactly once: the window runs a job only after this side says `start`,
// and a job this side gave up on is withdrawn (see runtime/protocol/dispatch.ts).
import {
  PlanSender,
  type DecisionMessage,
  type OfferMessage,
  type ServeJob,
  type WindowPresence,
  type WindowReply,
} from '../runtime/protocol/index.ts';
import type { ResponseHead, ServeSummary } from '../runtime/serve/index.ts';

declare const self: ServiceWorkerGlobalScope;

const ACCEPT_TIMEOUT_MS = 1500;
/** Body bytes queued here before the client reads them. */
const HIGH_WATER = 1 << 20;
/** Beyond the job's own deadline (the window enforces that one), in case the window goes away. */
const GRACE_MS = 5000;

/** Clients that said they are going away (pagehide): a closed window may still be listed a while. */
const gone = new Set<string>();
/** Clients about to navigate away (beforeunload), and when they said so. */
const leaving = new Map<string, number>();
/** A window that said it is leaving gets no offers for this long (a cancelled navigation keeps it). */
const LEAVING_MS = 5000;
/** The image plans each window was sent (each goes once; see plan-relay.ts). */
const planSenders = new Map<string, PlanSender>();
/** Runs in flight per window, ended at once if the window goes away. */
const inflight = new Map<string, Set<(why: string) => void>>();

export function windowPresence(clientId: string, m: WindowPresence): void {
  if (m.type === 'berth:window-leaving') leaving.set(clientId, Date.now());
  else if (m.type === 'berth:window-gone') {
    gone.add(clientId);
    for (const stop of inflight.get(clientId) ?? []) stop('the app window running it went away');
  } else {
    gone.delete(clientId);
    leaving.delete(clientId);
  }
}

/** App windows: controlled windows showing the app shell, not a /svc/ page, and not going away. */
export async function appWindows(): Promise<WindowClient[]> {
  const all = await self.clients.matchAll({ type: 'window' });
  const ids = new Set(all.map((c) => c.id));
  for (const id of gone) if (!ids.has(id)) gone.delete(id);
  for (const id of planSenders.keys()) if (!ids.has(id)) planSenders.delete(id);
  const now = Date.now();
  for (const [id, at] of leaving) if (!ids.has(id) || now - at > LEAVING_MS) leaving.delete(id);
  return all.filter((c) => {
    if (gone.has(c.id) || leaving.has(c.id)) return false;
    const u = new URL(c.url);
    return u.origin === self.location.origin && (u.pathname === '/' || u.pathname === '/index.html');
  });
}

function track(clientId: string, stop: (why: string) => void): void {
  let set = inflight.get(clientId);
  if (!set) inflight.set(clientId, (set = new Set()));
  set.add(stop);
}

export interface WindowRun {
  head: ResponseHead;
  body: ReadableStream<Uint8Array>;
  done: Promise<ServeSummary>;
}

/** `windows`: the app windows, when the caller asked for them already (while it read the service). */
export async function runInWindow(
  job: ServeJob,
  windows: Promise<WindowClient[]> = appWindows(),
): Promise<WindowRun | undefined> {
  for (const client of await windows) {
    const run = await tryClient(client, job);
    if (run) return run;
  }
  return undefined;
}

type State = 'offered' | 'started' | 'streaming' | 'ended';

function tryClient(client: WindowClient, job: ServeJob): Promise<WindowRun | undefined> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const port = channel.port1;
    const decide = (m: DecisionMessage) => port.postMessage(m);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let settleDone!: (s: ServeSummary) => void;
    const done = new Promise<ServeSummary>((r) => (settleDone = r));
    // Bytes enqueued so far; what the client consumed is that less what is still queued. Each pull
    // tells the worker, whose program waits while too much is unconsumed (backpressure).
    let enqueued = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (controller = c),
        pull: (c) => {
          const consumed = enqueued - (HIGH_WATER - (c.desiredSize ?? HIGH_WATER));
          if (state === 'streaming') decide({ kind: 'credit', id: job.id, consumed });
        },
        // The client went away: the window stops the run and frees its worker.
        cancel: () => {
          cancelled = true;
          if (state !== 'ended') decide({ kind: 'cancel', id: job.id });
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER }),
    );
    let state: State = 'offered';
    let cancelled = false;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const end = (summary: ServeSummary, error?: Error) => {
      if (state === 'ended') return;
      const wasStreaming = state === 'streaming';
      state = 'ended';
      inflight.get(client.id)?.delete(stop);
      clearTimeout(acceptTimer);
      clearTimeout(deadline);
      if (wasStreaming) {
        try {
          if (error) controller.error(error);
          else controller.close();
        } catch {
          // the client cancelled the body already
        }
      }
      settleDone(summary);
    };
    // The window went away mid-run: answer now (502 before the head, a cut-off body after it)
    // instead of waiting out the deadline.
    const stop = (why: string) => {
      const text = `${why} (service ${job.service})\n`;
      if (state === 'started')
        resolve({
          head: { status: 502, statusText: 'Bad Gateway', headers: [['content-type', 'text/plain; charset=utf-8']] },
          body: new Blob([text]).stream(),
          done,
        });
      end({ status: 502, stderrTail: text }, new Error(text));
      port.close();
    };
    const acceptTimer = setTimeout(() => {
      if (state !== 'offered') return;
      // Withdrawn: if the window reads the offer later, it finds this first and runs nothing.
      decide({ kind: 'withdraw', id: job.id });
      end({ status: 0, stderrTail: '' });
      port.close();
      resolve(undefined);
    }, ACCEPT_TIMEOUT_MS);
    port.onmessage = (ev: MessageEvent<WindowReply>) => {
      const m = ev.data;
      switch (m.kind) {
        case 'accept':
          if (state !== 'offered') return;
          state = 'started';
          clearTimeout(acceptTimer);
          decide({ kind: 'start', id: job.id });
          track(client.id, stop);
          deadline = setTimeout(() => {
            const text = `the app window stopped answering for service ${job.service}\n`;
            if (state === 'started') {
              resolve({
                head: {
                  status: 504,
                  statusText: 'Gateway Timeout',
                  headers: [['content-type', 'text/plain; charset=utf-8']],
                },
                body: new Blob([text]).stream(),
                done,
              });
            }
            end({ status: 504, stderrTail: text }, new Error(text));
            port.close();
          }, job.timeoutMs + GRACE_MS);
          return;
        case 'head':
          if (state !== 'started') return;
          state = 'streaming';
          resolve({ head: m.head, body, done });
          return;
        case 'body':
          if (state === 'streaming' && !cancelled) {
            enqueued += m.chunk.length;
            controller.enqueue(m.chunk);
          }
          return;
        case 'end':
          // A response cut short after its head: error the body, so it is not taken for a whole one.
          end(m.result, m.result.aborted ? new Error(m.result.error ?? 'the response was cut short') : undefined);
          port.close();
          return;
      }
    };
    let sender = planSenders.get(client.id);
    if (!sender) planSenders.set(client.id, (sender = new PlanSender()));
    const offer: OfferMessage = { type: 'berth:offer', job: sender.strip(job) };
    client.postMessage(offer, [channel.port2]);
  });
}
