// Hands a /svc job to an open app window, whose pool runs it in a dedicated worker (a Service Worker
// cannot start workers). The Response is returned as soon as the head arrives; its body streams in
// as the program writes it. Resolves undefined when no window takes the job in time, so the caller
// can run it here instead. Exactly once: the window runs a job only after this side says `start`,
// and a job this side gave up on is withdrawn (see runtime/protocol/dispatch.ts).
import {
  PlanSender,
  type DecisionMessage,
  type EventBatch,
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
/** A credit goes to the worker each time the client has consumed this much more (see tryClient). */
const CREDIT_STEP = 64 << 10;
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

/**
 * The controlled windows as last listed, and when: listing them (clients.matchAll) is a round trip
 * to the browser that came before every offer, about a millisecond. A list younger than LIST_MS is
 * used as it is, filtered by what windows said since (gone, leaving); a window that opens says so
 * (`berth:window-here`), which drops the list.
 */
let listed: { at: number; windows: Promise<readonly WindowClient[]> } | undefined;
const LIST_MS = 1000;

/**
 * Each window's own port, which it sends with `berth:window-here`: offers, and every message of the
 * conversation that follows, go on it, each with its request's id (a message on a port is one hop
 * between the two threads, where Client.postMessage goes through the browser process; and no port
 * is made and sent per request). Lost when this SW stops; a window that then gets an offer the
 * other way (with a port of its own) sends a new one. A port a window replaced stays open until
 * the conversations on it are over.
 */
interface StandingPort {
  port: MessagePort;
  /**
   * Its conversations not yet over, by request id: where the window's replies go. Per port: a
   * request offered to one window, withdrawn, then offered to another keeps its id, and a late
   * reply of the first must not reach the second's conversation.
   */
  conversations: Map<string, (m: Exclude<WindowReply, EventBatch>) => void>;
  retired: boolean;
}
const offerPorts = new Map<string, StandingPort>();

/** Closes a port the window replaced once no conversation is left on it. */
function closeIfDone(standing: StandingPort): void {
  if (standing.retired && standing.conversations.size === 0) standing.port.close();
}

function retire(standing: StandingPort): void {
  standing.retired = true;
  closeIfDone(standing);
}

/** A window's reply as the events it holds (a batch is several). */
function repliesIn(m: WindowReply): Exclude<WindowReply, EventBatch>[] {
  return m.kind === 'events' ? m.events : [m];
}

function dropOfferPort(clientId: string): void {
  const standing = offerPorts.get(clientId);
  offerPorts.delete(clientId);
  if (standing) retire(standing);
}

function standingPort(port: MessagePort): StandingPort {
  const standing: StandingPort = { port, conversations: new Map(), retired: false };
  port.onmessage = (ev: MessageEvent<WindowReply>) => {
    for (const r of repliesIn(ev.data)) standing.conversations.get(r.id)?.(r);
  };
  return standing;
}

/** One request's messages to a window and back: on the window's standing port, or on a port of its own. */
interface Line {
  send(m: DecisionMessage): void;
  /** Ends the conversation here (idempotent): later replies are dropped. */
  close(): void;
}

function openLine(
  client: WindowClient,
  offer: OfferMessage,
  onReply: (m: Exclude<WindowReply, EventBatch>) => void,
): Line {
  const standing = offerPorts.get(client.id);
  if (standing) {
    standing.conversations.set(offer.id, onReply);
    let closed = false;
    standing.port.postMessage(offer);
    return {
      send: (m) => {
        if (!closed) standing.port.postMessage(m);
      },
      close: () => {
        if (closed) return;
        closed = true;
        standing.conversations.delete(offer.id);
        closeIfDone(standing);
      },
    };
  }
  // No standing port (this SW started again since the window sent it): a port for this request.
  const channel = new MessageChannel();
  channel.port1.onmessage = (ev: MessageEvent<WindowReply>) => {
    for (const r of repliesIn(ev.data)) onReply(r);
  };
  client.postMessage(offer, [channel.port2]);
  return { send: (m) => channel.port1.postMessage(m), close: () => channel.port1.close() };
}

export function windowPresence(clientId: string, m: WindowPresence, port?: MessagePort): void {
  if (m.type === 'berth:window-here') {
    listed = undefined;
    gone.delete(clientId);
    leaving.delete(clientId);
    if (port) {
      dropOfferPort(clientId);
      offerPorts.set(clientId, standingPort(port));
    }
  } else if (m.type === 'berth:window-leaving') leaving.set(clientId, Date.now());
  else if (m.type === 'berth:window-gone') {
    gone.add(clientId);
    dropOfferPort(clientId);
    for (const stop of inflight.get(clientId) ?? []) stop('the app window running it went away');
  } else {
    gone.delete(clientId);
    leaving.delete(clientId);
  }
}

/** What is kept per window, for the windows no longer listed: dropped. */
function forgetClosed(all: readonly WindowClient[]): void {
  const ids = new Set(all.map((c) => c.id));
  for (const id of gone) if (!ids.has(id)) gone.delete(id);
  for (const id of planSenders.keys()) if (!ids.has(id)) planSenders.delete(id);
  for (const id of offerPorts.keys()) if (!ids.has(id)) dropOfferPort(id);
  const now = Date.now();
  for (const [id, at] of leaving) if (!ids.has(id) || now - at > LEAVING_MS) leaving.delete(id);
}

/** App windows: controlled windows showing the app shell, not a /svc/ page, and not going away. */
export async function appWindows(): Promise<WindowClient[]> {
  const now = Date.now();
  if (!listed || now - listed.at > LIST_MS) {
    const windows = self.clients.matchAll({ type: 'window' });
    listed = { at: now, windows };
    windows.then(forgetClosed, () => (listed = undefined));
  }
  const all = await listed.windows;
  return all.filter((c) => {
    if (gone.has(c.id) || leaving.has(c.id)) return false;
    const u = new URL(c.url);
    return u.origin === self.location.origin && (u.pathname === '/' || u.pathname === '/index.html');
  });
}

function senderFor(clientId: string): PlanSender {
  let sender = planSenders.get(clientId);
  if (!sender) planSenders.set(clientId, (sender = new PlanSender()));
  return sender;
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

/**
 * Offers the request `id` to the app windows in turn and runs `job` in the first that accepts. The
 * offer goes out before the job is known: the window's accept crosses while the caller reads the
 * service record (the handshake took a millisecond of every request when it waited for that read).
 * `job` resolves undefined when the request is not to run in a window after all (no such service,
 * refused): the offer is withdrawn.
 */
export async function runInWindow(
  id: string,
  service: string,
  job: Promise<ServeJob | undefined>,
): Promise<WindowRun | undefined> {
  for (const client of await appWindows()) {
    const run = await tryClient(client, id, service, job);
    if (run) return run;
    if (!(await job)) return undefined;
  }
  return undefined;
}

type State = 'offered' | 'accepted' | 'started' | 'streaming' | 'ended';

function tryClient(
  client: WindowClient,
  id: string,
  service: string,
  pendingJob: Promise<ServeJob | undefined>,
): Promise<WindowRun | undefined> {
  return new Promise((resolve) => {
    // The conversation with the window, opened with the offer at the end.
    let line!: Line;
    const decide = (m: DecisionMessage) => line.send(m);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let settleDone!: (s: ServeSummary) => void;
    const done = new Promise<ServeSummary>((r) => (settleDone = r));
    // Bytes enqueued so far; what the client consumed is that less what is still queued. A pull
    // tells the worker, whose program waits while too much is unconsumed (backpressure, 2 MiB), once
    // the client has consumed CREDIT_STEP more than the last credit said: the worker's count then
    // lags by less than that, far below what makes it wait, so a wait always ends when the client
    // has read everything. A small response sends no credit (each crossed the window's main thread
    // and woke the worker after its job was over).
    let enqueued = 0;
    let credited = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (controller = c),
        pull: (c) => {
          const consumed = enqueued - (HIGH_WATER - (c.desiredSize ?? HIGH_WATER));
          if (state !== 'streaming' || consumed - credited < CREDIT_STEP) return;
          credited = consumed;
          decide({ kind: 'credit', id, consumed });
        },
        // The client went away: the window stops the run and frees its worker.
        cancel: () => {
          cancelled = true;
          if (state !== 'ended') decide({ kind: 'cancel', id });
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
      if (state === 'accepted') {
        // Gone before it was told to start: nothing ran there; another window or this SW runs it.
        // A window that said it was gone and is back (the back/forward cache) drops the offer.
        decide({ kind: 'withdraw', id });
        end({ status: 0, stderrTail: '' });
        line.close();
        resolve(undefined);
        return;
      }
      const text = `${why} (service ${service})\n`;
      if (state === 'started')
        resolve({
          head: { status: 502, statusText: 'Bad Gateway', headers: [['content-type', 'text/plain; charset=utf-8']] },
          body: new Blob([text]).stream(),
          done,
        });
      end({ status: 502, stderrTail: text }, new Error(text));
      line.close();
    };
    const acceptTimer = setTimeout(() => {
      if (state !== 'offered') return;
      // Withdrawn: if the window reads the offer later, it finds this first and runs nothing.
      decide({ kind: 'withdraw', id });
      end({ status: 0, stderrTail: '' });
      line.close();
      resolve(undefined);
    }, ACCEPT_TIMEOUT_MS);
    // The body stays a stream even when the whole response came in one message: a Response made
    // from bytes is read as a blob by Chromium's loader, and that was slower here (wagi-echo's p50
    // 4.5 -> 5.3 ms, 8 interleaved rounds).
    const handle = (m: Exclude<WindowReply, EventBatch>) => {
      switch (m.kind) {
        case 'accept':
          if (state !== 'offered') return;
          state = 'accepted';
          clearTimeout(acceptTimer);
          track(client.id, stop);
          void pendingJob.then((j) => {
            if (state !== 'accepted') return;
            if (!j) {
              // Not to run after all (no such service, or refused): the window drops the offer.
              decide({ kind: 'withdraw', id });
              end({ status: 0, stderrTail: '' });
              line.close();
              resolve(undefined);
              return;
            }
            state = 'started';
            decide({ kind: 'start', id, job: senderFor(client.id).strip(j) });
            deadline = setTimeout(() => {
              const text = `the app window stopped answering for service ${service}\n`;
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
              line.close();
            }, j.timeoutMs + GRACE_MS);
          });
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
          line.close();
          return;
      }
    };
    // No job after all while the offer waits: withdrawn at once.
    void pendingJob.then((j) => {
      if (j || state !== 'offered') return;
      decide({ kind: 'withdraw', id });
      end({ status: 0, stderrTail: '' });
      line.close();
      resolve(undefined);
    });
    line = openLine(client, { type: 'berth:offer', id, service }, handle);
  });
}
