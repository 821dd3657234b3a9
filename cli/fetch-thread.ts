// Outgoing requests of wasi:http handlers run by `berth serve` and `berth run -p`. The handler runs
// on the main thread and waits synchronously (its glue cannot suspend in Node 20: no JSPI), so the
// request is made by a helper thread while the main thread waits on an Atomics cell and then takes
// the answer with receiveMessageOnPort. The main thread cannot answer anything while it waits, so a
// call to another service of the same store is served by the helper thread itself (its own run
// context over the same store: the same per-request instances, limits and volume locks).
//
// The helper is the module that asks for it (svc-server.ts, whose own import.meta.url it passes)
// started as a worker thread: that module sees `isFetchThread()` and calls `runFetchThread` with
// how to serve its services, so the built CLI needs no second entry point.
import {
  isMainThread,
  MessageChannel,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
  type MessagePort,
} from 'node:worker_threads';
import {
  fetchWaitMs,
  HttpFetchError,
  type FetchRequest,
  type FetchResponse,
  type SyncFetch,
} from '../runtime/component/index.ts';

const ROLE = 'berth-fetch-thread';

interface Ask {
  request: FetchRequest;
  /** The store of the services, and the origin they are served on. */
  store: string;
  origin: string;
}
type Answer = { response: FetchResponse } | { error: { code: string; message: string } };

/** The longest a handler waits for one outgoing request (it cannot be interrupted while it waits). */
const WAIT_MS = 60_000;

let helper: { worker: Worker; port: MessagePort; cell: Int32Array } | undefined;

/** How long a new helper may take to start (it loads the CLI's modules). */
const START_MS = 15_000;

/** Whether this thread is a fetch helper (then its module should call runFetchThread). */
export function isFetchThread(): boolean {
  return !isMainThread && (workerData as { role?: string } | undefined)?.role === ROLE;
}

function startHelper(module: string) {
  // [0]: an answer is on the port; [1]: the helper has started and listens.
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const self = module;
  const options = { workerData: { role: ROLE, cell, port: port2 }, transferList: [port2] };
  // The sources (no build) run through tsx, whose loader a worker does not inherit: the worker
  // registers it, then loads this module.
  const worker = self.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(self)}); })`,
        { ...options, eval: true },
      )
    : new Worker(new URL(self), options);
  worker.unref();
  port1.unref();
  // The main thread cannot see the helper fail while it waits, so it waits for a sign of life first.
  if (Atomics.wait(cell, 1, 0, START_MS) === 'timed-out') {
    void worker.terminate();
    throw new HttpFetchError('internal-error', 'the fetch thread did not start');
  }
  return { worker, port: port1, cell };
}

/**
 * A blocking fetch for the handlers of `store`'s services; a call to another of them (a request
 * whose `call` names the origin they are served on) is served by the helper. `module` (a URL) is
 * started as the helper thread and calls runFetchThread there.
 */
export function nodeSyncFetch(store: string, module: string): SyncFetch {
  return (request) => {
    helper ??= startHelper(module);
    const { worker, port, cell } = helper;
    const h = helper;
    Atomics.store(cell, 0, 0);
    // A call to another service of the store: the helper serves it (the origin it was called on).
    const origin = request.call?.origin ?? '';
    worker.postMessage({ request, store, origin } satisfies Ask);
    // No longer than the caller's deadline allows (fetchWaitMs).
    const wait = Math.min(WAIT_MS, fetchWaitMs(request) ?? WAIT_MS);
    if (Atomics.wait(cell, 0, 0, wait) === 'timed-out') {
      // A helper that did not answer may be stuck: the next request gets a new one.
      if (helper === h) helper = undefined;
      void worker.terminate();
      throw new HttpFetchError(
        'HTTP-response-timeout',
        `no answer from ${request.url} within ${Math.round(wait / 1000)} s`,
      );
    }
    const got = receiveMessageOnPort(port)?.message as Answer | undefined;
    if (!got) throw new HttpFetchError('internal-error', 'the fetch thread gave no answer');
    if ('error' in got) throw new HttpFetchError(got.error.code, got.error.message);
    return got.response;
  };
}

/** How the helper answers a request to one of the store's services (`/svc/...` on the origin). */
export type ServeInThread = (store: string, request: Request) => Promise<Response>;

/** The helper thread: one request at a time, answered on the port, then the cell is signalled. */
export function runFetchThread(serve: ServeInThread): void {
  const { cell, port } = workerData as { cell: Int32Array; port: MessagePort };
  parentPort!.on('message', async (ask: Ask) => {
    let answer: Answer;
    try {
      const url = new URL(ask.request.url);
      const body = ask.request.method === 'GET' || ask.request.method === 'HEAD' ? null : ask.request.body;
      const init = { method: ask.request.method, headers: ask.request.headers, body } as RequestInit;
      const res =
        ask.origin && url.origin === ask.origin && url.pathname.startsWith('/svc/')
          ? await serve(ask.store, new Request(url, init))
          : // Redirects come back to the handler, whose next request the policy judges again.
            await fetch(url, { ...init, redirect: 'manual' });
      answer = {
        response: {
          status: res.status,
          headers: [...res.headers],
          body: new Uint8Array(await res.arrayBuffer()),
          ...(res.url ? { url: res.url } : {}),
        },
      };
    } catch (e) {
      answer = {
        error: {
          code: 'destination-unavailable',
          message: `fetch of ${ask.request.url} failed: ${(e as Error)?.message ?? e}`,
        },
      };
    }
    port.postMessage(answer);
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
  });
  Atomics.store(cell, 1, 1);
  Atomics.notify(cell, 1);
}
