// Services in Node: `/svc/<name>/...` on `berth serve` answers from the CLI store's services, and
// `berth run -p PORT IMAGE` serves one image; each request a fresh instance through the same
// pipeline the Service Worker uses (runtime/serve/serve-request.ts): the same modes, deadlines,
// limits, volume locks, header policy (an untrusted service's pages get an opaque origin) and
// refusal of cross-site unsafe navigations (told here by Sec-Fetch-* and Origin, which a server
// sees), and every request in the service's run log.
import { RecordTable } from '../runtime/content/index.ts';
import { ModuleCache, nodeRunContext, type RunContext } from '../runtime/run/index.ts';
import { instrumentDeadline } from '../runtime/wasm/index.ts';
import { isRuntimeError } from '../runtime/core/index.ts';
import {
  crossSiteRefusal,
  DEFAULT_REQUEST_BYTES,
  requestData,
  RunLog,
  serveRequestTo,
  serviceResponseHeaders,
  type HttpRequestData,
  type ResponseHead,
  type ServeSummary,
  type ServiceRecord,
} from '../runtime/serve/index.ts';
import { nodeComponentLoader } from './component-loader.ts';
import { cacheDir, fsModuleStore, keptComponents } from './build-cache.ts';
import { isFetchThread, nodeSyncFetch, runFetchThread } from './fetch-thread.ts';
import { openStore, type CliStore } from './store.ts';

/**
 * One run context per store for the life of the server: compiled modules and transpiled components
 * are kept between requests (a context per request compiled every module, and transpiled every
 * component, again for each request).
 */
const contexts = new WeakMap<CliStore, RunContext>();
function contextOf(store: CliStore): RunContext {
  let ctx = contexts.get(store);
  if (!ctx) {
    ctx = nodeRunContext(store, {
      lock: store.lock,
      // Metered for the service's deadline: a program runs on this thread, and one that never
      // returns would otherwise hold the server (found: a spinning service hung `berth serve`).
      // Kept as compiled in the store's cache, so a server's restart does not meter them again.
      modules: new ModuleCache(
        undefined,
        (bytes) => instrumentDeadline(bytes),
        fsModuleStore(cacheDir(store.dir), 'metered'),
      ),
      components: nodeComponentLoader({ meter: true, kept: keptComponents(cacheDir(store.dir), { meter: true }) }),
      // wasi:http handlers' outgoing requests, made by a helper thread (cli/fetch-thread.ts).
      httpFetch: nodeSyncFetch(store.dir, import.meta.url),
    });
    contexts.set(store, ctx);
  }
  return ctx;
}

/** Answers one request for `service` (a stored one, or one made up for `run -p`). */
export async function serveService(
  store: CliStore,
  service: ServiceRecord,
  request: Request,
  options: { log?: boolean; internal?: boolean } = {},
): Promise<Response> {
  const started = Date.now();
  const url = new URL(request.url);
  // A call from another service's handler (the fetch thread) passed the outgoing policy already.
  // A server, unlike the Service Worker, sees every request a browser sends it: another site's
  // fetch (no-cors) as well as its form posts. So the origin of an unsafe method is checked whenever
  // a browser says where the request came from (Sec-Fetch-Site or Origin); curl and scripts say
  // neither and are let through, as the CLI's own callers.
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  const refusal = options.internal
    ? undefined
    : crossSiteRefusal(
        { method: request.method, navigation: site !== null || origin !== null, origin },
        url.origin,
        service,
      );
  const ctx = contextOf(store);
  const log = (summary: ServeSummary) =>
    options.log === false
      ? undefined
      : new RunLog(ctx.records).add({
          service: service.name,
          time: started,
          method: request.method,
          path: url.pathname + url.search,
          status: summary.status,
          durationMs: Date.now() - started,
          runner: 'node',
          exitCode: summary.exitCode,
          stderrTail: summary.stderrTail,
          ...(summary.error ? { error: summary.error } : {}),
        });
  /** Berth's own answer instead of the service's, logged. */
  const refuse = async (status: number, why: string) => {
    await log({ status, stderrTail: '', error: why });
    return new Response(`berth: ${why}.\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  };
  if (refusal) return refuse(403, refusal);
  // The body only now that the request may reach the service, to at most its cap.
  let req: HttpRequestData;
  try {
    req = await requestData(request, service.limits?.requestBytes ?? DEFAULT_REQUEST_BYTES);
  } catch (e) {
    if (!isRuntimeError(e, 'resource-exhausted')) throw e;
    return refuse(413, e.message);
  }
  // The body streams as the program writes it; the head comes first, once.
  let head: ResponseHead | undefined;
  let gotHead!: () => void;
  const headReady = new Promise<void>((r) => (gotHead = r));
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const done = serveRequestTo(
    ctx,
    service.name,
    req,
    {
      head(h) {
        head = h;
        gotHead();
      },
      body(chunk) {
        controller.enqueue(chunk.slice());
      },
    },
    { service },
  ).then(
    async (summary) => {
      if (summary.aborted) controller.error(new Error(summary.error ?? 'the response was cut short'));
      else controller.close();
      gotHead();
      await log(summary);
    },
    (e: unknown) => {
      controller.error(e);
      gotHead();
    },
  );
  await Promise.race([headReady, done]);
  if (!head) return new Response('berth: the service gave no response\n', { status: 502 });
  const nullBody = head.status === 204 || head.status === 205 || head.status === 304 || head.status < 200;
  return new Response(nullBody ? null : body, {
    status: head.status < 200 ? 502 : head.status,
    statusText: head.statusText,
    headers: serviceResponseHeaders(head, service, { 'X-Berth-Runner': 'node' }),
  });
}

/** The stored service `/svc/<name>/...` names, if any. */
export async function storedService(store: CliStore, pathname: string): Promise<ServiceRecord | undefined> {
  const name = /^\/svc\/([^/]+)/.exec(pathname)?.[1];
  if (!name) return undefined;
  return store.records.table<ServiceRecord>(RecordTable.Services).get(decodeURIComponent(name));
}

// Started as a wasi:http fetch helper (cli/fetch-thread.ts): a call to another service of the store
// is served here, in the helper's own context over the same store.
if (isFetchThread()) {
  const stores = new Map<string, CliStore>();
  runFetchThread(async (dir, request) => {
    let store = stores.get(dir);
    if (!store) stores.set(dir, (store = openStore(dir)));
    const service = await storedService(store, new URL(request.url).pathname);
    return service
      ? serveService(store, service, request, { internal: true })
      : new Response(`no service at ${new URL(request.url).pathname}\n`, { status: 404 });
  });
}
