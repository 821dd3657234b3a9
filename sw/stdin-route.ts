/// <reference lib="webworker" />
// The SW half of live stdin (see runtime/run/stdin-channel.ts): queues the bytes a page posts for a
// run and answers the run worker's synchronous GET /__berth/stdin/<runId>?max=N with them, holding
// the request open (long poll) until input arrives, input ends, or LONG_POLL_MS pass (then an empty
// 200: "nothing yet", the worker asks again). The SW stays alive while a request is pending.
import {
  CLOSED_QUERY,
  isStdinMessage,
  RUN_CLOSED_HEADER,
  STDIN_HEADER,
  stdinRunId,
} from '../runtime/run/stdin-channel.ts';

/** How long one request waits for input before answering "nothing yet". */
const LONG_POLL_MS = 3_000;
/** A run nobody touched for this long is forgotten (its page went away without closing it). */
const FORGET_MS = 30 * 60_000;

interface Channel {
  chunks: Uint8Array[];
  eof: boolean;
  /** Wakes the pending request, if any. */
  wake?: () => void;
  touched: number;
}

const channels = new Map<string, Channel>();
/** Runs the page said are over (stdin-close), by when: a run still going asks (see xhrRunClosed). */
const closed = new Map<string, number>();

function channel(runId: string): Channel {
  let c = channels.get(runId);
  if (!c) {
    const now = Date.now();
    for (const [id, old] of channels) if (now - old.touched > FORGET_MS && !old.wake) channels.delete(id);
    c = { chunks: [], eof: false, touched: now };
    channels.set(runId, c);
  }
  c.touched = Date.now();
  return c;
}

/** Takes up to `max` bytes off the front of the queued chunks (splitting one if needed), in order. */
export function take(c: Pick<Channel, 'chunks'>, max: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  while (c.chunks.length > 0 && n < max) {
    const head = c.chunks[0];
    const want = max - n;
    if (head.length <= want) {
      parts.push(head);
      n += head.length;
      c.chunks.shift();
    } else {
      parts.push(head.subarray(0, want));
      c.chunks[0] = head.subarray(want);
      n += want;
    }
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const headers = (extra: Record<string, string> = {}) => ({
  [STDIN_HEADER]: '1',
  'cache-control': 'no-store',
  ...extra,
});
const BYTES = { 'content-type': 'application/octet-stream' };

async function answer(runId: string, max: number): Promise<Response> {
  const c = channel(runId);
  if (c.chunks.length === 0 && !c.eof) {
    // One pending request per run: a newer one releases the older with "nothing yet".
    c.wake?.();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, LONG_POLL_MS);
      function done() {
        clearTimeout(timer);
        if (c.wake === done) c.wake = undefined;
        resolve();
      }
      c.wake = done;
    });
  }
  c.touched = Date.now();
  if (c.chunks.length > 0) {
    const body = take(c, max) as Uint8Array<ArrayBuffer>;
    return new Response(body, { status: 200, headers: headers(BYTES) });
  }
  if (c.eof) {
    channels.delete(runId);
    return new Response(null, { status: 204, headers: headers() });
  }
  return new Response(new Uint8Array(0), { status: 200, headers: headers(BYTES) });
}

/** Adds the message listener (page -> SW input) and the fetch route (worker -> SW reads). */
export function registerStdinRoute(sw: ServiceWorkerGlobalScope): void {
  sw.addEventListener('message', (event) => {
    const m = event.data as unknown;
    if (!isStdinMessage(m)) return;
    if (m.type === 'berth:stdin-close') {
      const now = Date.now();
      for (const [id, at] of closed) if (now - at > FORGET_MS) closed.delete(id);
      closed.set(m.runId, now);
      const c = channels.get(m.runId);
      channels.delete(m.runId);
      if (c) {
        c.eof = true;
        c.chunks = [];
        c.wake?.();
      }
      return;
    }
    const c = channel(m.runId);
    if (m.type === 'berth:stdin') {
      if (m.bytes.length > 0) c.chunks.push(m.bytes);
    } else c.eof = true;
    c.wake?.();
  });
  sw.addEventListener('fetch', (event) => {
    const url = new URL(event.request.url);
    if (url.origin !== sw.location.origin) return;
    const runId = stdinRunId(url.pathname);
    if (runId === undefined) return;
    if (url.searchParams.has(CLOSED_QUERY)) {
      const over = closed.has(runId) ? '1' : '0';
      return event.respondWith(new Response(null, { status: 204, headers: headers({ [RUN_CLOSED_HEADER]: over }) }));
    }
    const max = Number(url.searchParams.get('max')) || 65536;
    event.respondWith(answer(runId, Math.max(1, Math.min(max, 1 << 20))));
  });
}
