// The messages around a job, besides its events: page -> worker, worker -> page, and the exactly-once
// handshake between the SW and an app window.
//
// SW -> window: `berth:offer` with a request's id, sent while the SW still reads the service, on
// the port the window gave the SW (`berth:window-here`); every later message of that request goes
// on the same port and carries its id. A SW without such a port (it started again since) sends the
// offer on its client channel with a MessagePort of the request's own instead. The window answers
// `accept`; the SW answers `start` with the job if it still wants the window to run it, or
// `withdraw` if it gave up waiting (and runs the job itself) or the request is not to run (no such
// service, refused). The window runs a job only after `start`, so a job is never run twice (one
// port keeps the messages in order); then it relays the job's events.
import type { EventBatch, JobEvent } from './events.ts';
import type { Job, ServeJob } from './jobs.ts';

/** Page -> run worker: one job, with the modules the page already compiled (by ModuleCache key). */
export interface WorkerJobMessage {
  kind: 'job';
  job: Job;
  modules: [string, WebAssembly.Module][];
}

/** Run worker -> page: modules the worker compiled, for the page's cache. Not relayed. */
export interface CompiledMessage {
  kind: 'compiled';
  modules: [string, WebAssembly.Module][];
}

export type WorkerMessage = JobEvent | EventBatch | CompiledMessage;

/** SW -> window, on the window's port (or on the client channel, with a port for the request). */
export interface OfferMessage {
  type: 'berth:offer';
  id: string;
  /** The service's name, for what the window shows; the job comes with `start`. */
  service: string;
}

/** Window -> SW, before any event. */
export interface AcceptMessage {
  kind: 'accept';
  id: string;
}

/**
 * SW -> window: run it (`start`) or not (`withdraw`); later, `cancel` when the
 * client went away (the window stops the run and frees its worker).
 */
export type DecisionMessage =
  | { kind: 'start'; id: string; job: ServeJob }
  | { kind: 'withdraw'; id: string }
  | { kind: 'cancel'; id: string }
  | CreditMessage;

/**
 * SW -> window -> worker, while a response streams: the client has consumed this many body bytes
 * of the job so far. The worker's program waits in fd_write while too many are unconsumed
 * (backpressure, with JSPI).
 */
export interface CreditMessage {
  kind: 'credit';
  id: string;
  consumed: number;
}

/** Page -> run worker, besides jobs. */
export type WorkerControlMessage = CreditMessage;

/** Window -> SW, each with its request's id (a batch: its events'). */
export type WindowReply = AcceptMessage | JobEvent<'serve'> | EventBatch<'serve'>;

/** Page <-> SW, on the client channel: import the seed images. */
export type SeedRequest = { type: 'berth:seed' };
export type SeedReply = { type: 'berth:seeded' } | { type: 'berth:seed-failed'; message: string };

/** Type tags of berth's client-channel messages (others, like workbox-window's, share that channel). */
export function isOffer(data: unknown): data is OfferMessage {
  return (data as { type?: unknown } | null)?.type === 'berth:offer';
}
export function isSeedRequest(data: unknown): data is SeedRequest {
  return (data as { type?: unknown } | null)?.type === 'berth:seed';
}
/**
 * Page -> SW, on the client channel: this app window takes jobs now (here: the SW lists its
 * windows again), is about to navigate away (beforeunload: the navigation's own request must not
 * run here, or its response would be cut off when the page unloads), is going away (pagehide), or
 * is back from the back/forward cache (pageshow).
 */
export type WindowPresence =
  | { type: 'berth:window-here' }
  | { type: 'berth:window-leaving' }
  | { type: 'berth:window-gone' }
  | { type: 'berth:window-back' };
export function isWindowPresence(data: unknown): data is WindowPresence {
  const t = (data as { type?: unknown } | null)?.type;
  return (
    t === 'berth:window-here' || t === 'berth:window-leaving' || t === 'berth:window-gone' || t === 'berth:window-back'
  );
}

/**
 * Any context -> the SW, after a write to a record table it keeps in memory (service records) is
 * committed: on the client channel with a MessagePort, answered `berth:records-seen` once the SW
 * dropped what it kept (so the writer's next request sees the write), and on the BroadcastChannel
 * RECORDS_CHANNEL for a SW that does not control the writer (no answer).
 */
export const RECORDS_CHANNEL = 'berth-records';
export type RecordsChanged = { type: 'berth:records-changed'; table: string; keys: string[] };
export type RecordsSeen = { type: 'berth:records-seen' };
export function isRecordsChanged(data: unknown): data is RecordsChanged {
  const m = data as Partial<RecordsChanged> | null;
  return (
    m?.type === 'berth:records-changed' &&
    typeof m.table === 'string' &&
    Array.isArray(m.keys) &&
    m.keys.every((k) => typeof k === 'string')
  );
}

/**
 * SW -> every page, on the BroadcastChannel INSTALL_CHANNEL: the install failed (an installing SW
 * has no clients to post to, and a page would otherwise wait for control forever).
 */
export const INSTALL_CHANNEL = 'berth-sw-install';
export type InstallFailed = { type: 'berth:install-failed'; message: string };
export function isInstallFailed(data: unknown): data is InstallFailed {
  return (data as { type?: unknown } | null)?.type === 'berth:install-failed';
}
export function isSeedReply(data: unknown): data is SeedReply {
  const t = (data as { type?: unknown } | null)?.type;
  return t === 'berth:seeded' || t === 'berth:seed-failed';
}
