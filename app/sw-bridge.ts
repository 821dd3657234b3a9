// The page side of the Service Worker: registration, waiting for control, answering run requests
// with the worker pool, and asking the SW to import the seed images.
import { Workbox } from 'workbox-window';
import {
  eventBuffers,
  INSTALL_CHANNEL,
  isInstallFailed,
  isOffer,
  isSeedReply,
  PlanKeeper,
  type AcceptMessage,
  type DecisionMessage,
  type JobEvent,
  type OfferMessage,
  type SeedRequest,
  type WindowPresence,
  type WindowReply,
} from '../runtime/protocol/index.ts';
import type { JobControl, WorkerPool } from './worker-pool.ts';

/**
 * Registers berth's SW and waits until it controls the page. Rejects, with the SW's reason where it
 * gave one, when the install fails (else the page would wait for control forever).
 */
export async function registerServiceWorker(): Promise<Workbox | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  const wb = new Workbox('/sw.js');
  // A page a SW already controls has nothing to wait for: an update that fails to install leaves
  // the working one in place (and workbox-window calls the old worker redundant on every update).
  if (navigator.serviceWorker.controller) {
    await wb.register();
    return wb;
  }
  const channel = new BroadcastChannel(INSTALL_CHANNEL);
  let reason = '';
  let onRedundant: ((ev: { isExternal?: boolean }) => void) | undefined;
  try {
    const failed = new Promise<never>((_, reject) => {
      channel.onmessage = (ev: MessageEvent) => {
        if (isInstallFailed(ev.data)) reason = ev.data.message;
      };
      onRedundant = (ev) => {
        if (ev.isExternal) return; // another tab's registration, not this install
        // The reason, if any, was posted before the worker went redundant; give it a moment to land.
        setTimeout(() => reject(new Error(`the Service Worker failed to install${reason ? `: ${reason}` : ''}`)), 50);
      };
      wb.addEventListener('redundant', onRedundant);
    });
    failed.catch(() => undefined); // raced below; never left unhandled
    const controlled = new Promise<void>((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
    );
    await Promise.race([wb.register(), failed]);
    if (!navigator.serviceWorker.controller) await Promise.race([controlled, failed]);
  } finally {
    if (onRedundant) wb.removeEventListener('redundant', onRedundant);
    channel.close();
  }
  return wb;
}

/** One offer's conversation with the SW: on the window's standing port, or on a port of its own. */
interface Line {
  post(m: WindowReply, transfer?: Transferable[]): void;
  /** Ends it here (idempotent): later decisions are dropped. */
  close(): void;
  onDecision?: (m: DecisionMessage) => void;
}

/**
 * Runs the /svc jobs the SW offers in the pool. The window accepts an offer at once but starts the
 * job only when the SW says `start`: a job the SW withdrew (it waited too long and ran it itself)
 * is dropped, so a job runs exactly once. The worker's events go back to the SW unchanged.
 */
export function answerRunRequests(pool: WorkerPool): void {
  // The SW sends each image plan once (plan-relay.ts): kept here for the offers that come without.
  const plans = new PlanKeeper();
  const onOffer = (offer: OfferMessage, line: Line) => {
    const { id } = offer;
    const cancel = new AbortController();
    const control: JobControl = {};
    line.onDecision = (m) => {
      if (m.kind === 'start') {
        const job = plans.fill(m.job);
        // The events of one message from the worker (a batch) go on to the SW as one message too.
        let batch: JobEvent<'serve'>[] = [];
        const send = () => {
          const events = batch;
          batch = [];
          const out: WindowReply = events.length === 1 ? events[0] : { kind: 'events', events };
          line.post(out, eventBuffers(events));
        };
        const relay = (e: JobEvent<'serve'>) => {
          if (batch.push(e) === 1) queueMicrotask(send);
        };
        void pool.serve(job, relay, cancel.signal, control).finally(() => queueMicrotask(() => line.close()));
      } else if (m.kind === 'cancel') cancel.abort();
      else if (m.kind === 'credit') control.send?.(m);
      else line.close();
    };
    line.post({ kind: 'accept', id } satisfies AcceptMessage);
  };
  // An offer that came with a port of its own (the SW had no standing port of this window).
  const onOwnPort = (offer: OfferMessage, port: MessagePort) => {
    const line: Line = {
      post: (m, transfer = []) => port.postMessage(m, transfer),
      close: () => port.close(),
    };
    port.onmessage = (m: MessageEvent<DecisionMessage>) => line.onDecision?.(m.data);
    onOffer(offer, line);
  };
  // A closed window can stay listed among the SW's clients for a moment (WebKit: seconds), and
  // an offer to it waits out the accept timeout before the SW runs the job itself.
  const say = (m: WindowPresence) => navigator.serviceWorker.controller?.postMessage(m);
  // The SW keeps its list of windows a moment: this one is new, and also once a SW controls it.
  // With it goes the port the SW sends this window's offers on (one hop; see run-in-window.ts).
  // An older port stays open: an offer the SW sent on it before it got the new one still lands.
  const here = () => {
    const sw = navigator.serviceWorker.controller;
    if (!sw) return;
    const channel = new MessageChannel();
    const port = channel.port1;
    // Offers and the conversations that follow share this port, each message with its request id.
    const lines = new Map<string, Line>();
    port.onmessage = (ev: MessageEvent<OfferMessage | DecisionMessage>) => {
      const m = ev.data;
      if (!isOffer(m)) return lines.get(m.id)?.onDecision?.(m);
      const line: Line = {
        post: (r, transfer = []) => lines.has(m.id) && port.postMessage(r, transfer),
        close: () => lines.delete(m.id),
      };
      lines.set(m.id, line);
      onOffer(m, line);
    };
    sw.postMessage({ type: 'berth:window-here' } satisfies WindowPresence, [channel.port2]);
  };
  navigator.serviceWorker.addEventListener('message', (ev: MessageEvent) => {
    if (!isOffer(ev.data)) return;
    // An offer the other way: the SW has no port of this window (it stopped and started again).
    here();
    onOwnPort(ev.data, ev.ports[0]);
  });
  navigator.serviceWorker.startMessages();
  here();
  navigator.serviceWorker.addEventListener('controllerchange', here);
  // A navigation away from this window (a link or a form to /svc/...) asks the SW for a response
  // that must not be run here: this page unloads once its head arrives, cutting off its body.
  window.addEventListener('beforeunload', () => say({ type: 'berth:window-leaving' }));
  window.addEventListener('pagehide', () => say({ type: 'berth:window-gone' }));
  window.addEventListener('pageshow', (ev) => ev.persisted && say({ type: 'berth:window-back' }));
}

/** Asks the SW to import the seed images (idempotent); resolves when they are stored. */
export function requestSeed(): Promise<void> {
  return new Promise((resolve, reject) => {
    const sw = navigator.serviceWorker.controller;
    if (!sw) return reject(new Error('no Service Worker controls this page'));
    const onMessage = (ev: MessageEvent) => {
      if (!isSeedReply(ev.data)) return;
      navigator.serviceWorker.removeEventListener('message', onMessage);
      if (ev.data.type === 'berth:seeded') resolve();
      else reject(new Error(ev.data.message));
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
    sw.postMessage({ type: 'berth:seed' } satisfies SeedRequest);
  });
}
