// A response that streams out of the Service Worker while the program runs there (no app window):
// the head as soon as the program has written it, the body as it writes, at the pace the client
// reads. With JSPI the program waits in fd_write while more than HIGH_WATER bytes are queued
// (`ready`), and a client that goes away ends the run; without JSPI the run cannot yield, so the
// body is queued whole and sent when the program has finished.
import { RuntimeError } from '../runtime/core/index.ts';
import type { ResponseHead, ResponseSink, ServeSummary } from '../runtime/serve/index.ts';

const HIGH_WATER = 1 << 20;

export interface StreamedResponse {
  sink: ResponseSink;
  /** The head, once the program has written it. */
  head: Promise<ResponseHead>;
  body: ReadableStream<Uint8Array>;
  /** The run is over: the body ends (with an error if the response was cut short). */
  end(summary: ServeSummary): void;
}

export function streamedResponse(): StreamedResponse {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let gotHead!: (h: ResponseHead) => void;
  let cancelled = false;
  // Once the head is out, the program yields once, so the Response can start before it writes more.
  let yieldOnce = false;
  let waiters: { go: () => void; stop: (e: Error) => void }[] = [];
  const release = () => {
    const w = waiters;
    waiters = [];
    for (const x of w) x.go();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: release,
      cancel: () => {
        cancelled = true;
        const w = waiters;
        waiters = [];
        for (const x of w) x.stop(new RuntimeError('cancelled', 'the client went away; the run was stopped'));
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER }),
  );
  const sink: ResponseSink = {
    head: (h) => {
      gotHead(h);
      yieldOnce = true;
    },
    body: (c) => {
      if (!cancelled) controller.enqueue(c);
    },
    ready: () => {
      if (cancelled) return Promise.reject(new RuntimeError('cancelled', 'the client went away; the run was stopped'));
      if (yieldOnce) {
        yieldOnce = false;
        return Promise.resolve();
      }
      if ((controller.desiredSize ?? 1) > 0) return undefined;
      return new Promise<void>((go, stop) => waiters.push({ go, stop }));
    },
  };
  return {
    sink,
    head: new Promise((r) => (gotHead = r)),
    body,
    end(summary) {
      if (cancelled) return;
      try {
        if (summary.aborted) controller.error(new Error(summary.error ?? 'the response was cut short'));
        else controller.close();
      } catch {
        // already closed
      }
    },
  };
}
