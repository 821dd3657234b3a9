// The /svc/<name>/... handler: one fresh WASI instance per request, in an app window's worker pool
// when one is open, else here in the Service Worker. Every request goes into the service's run log.
import type { ServeJob } from '../runtime/protocol/index.ts';
import { isRuntimeError } from '../runtime/core/index.ts';
import {
  crossSiteRefusal,
  DEFAULT_REQUEST_BYTES,
  DEFAULT_TIMEOUT_MS,
  requestData,
  RunLog,
  serveRequestTo,
  serviceResponseHeaders,
  textResponse,
  type ResponseHead,
  type ServeSummary,
  type ServiceTrust,
} from '../runtime/serve/index.ts';
import { type ImagePlan, volumeLockNames } from '../runtime/run/index.ts';
import { ImageStore } from '../runtime/images/index.ts';
import { CALL_HEADER, HttpFetchError, type FetchRequest, type FetchResponse } from '../runtime/component/index.ts';
import { runInWindow } from './run-in-window.ts';
import { svcName } from './svc-name.ts';
import { streamedResponse } from './stream-sink.ts';
import { plans, releaseIdleLocks, services, swRunContext } from './sw-context.ts';

declare const self: ServiceWorkerGlobalScope;

let nextId = 0;
/** Run-log entries are written in batches this far apart (each waitUntil keeps the SW alive for it). */
const RUN_LOG_GATHER_MS = 100;

/** Where the instance ran, for the run log and for tests: an app window's worker or this SW. */
export type Runner = 'worker' | 'service-worker';

/** The Response for a service's head and body, with berth's header policy (service-policy.ts). */
export function toResponse(
  head: ResponseHead,
  body: BodyInit | null,
  runner: Runner,
  service?: ServiceTrust,
): Response {
  const nullBody = head.status === 204 || head.status === 205 || head.status === 304 || head.status < 200;
  const headers = serviceResponseHeaders(head, service, { 'X-Berth-Runner': runner });
  return new Response(nullBody ? null : body, {
    status: head.status < 200 ? 502 : head.status,
    statusText: head.statusText,
    headers,
  });
}

export function handleSvc(event: FetchEvent, name: string, ready: Promise<unknown>): Promise<Response> {
  return answerSvc(event.request, name, ready, (p) => event.waitUntil(p));
}

/**
 * A wasi:http handler's outgoing request, from a run in this SW: one to `/svc/<name>/` on berth's
 * origin is answered by that service here, without the network (offline too); any other goes out
 * with fetch. The policy (which URLs may be fetched at all) was applied before this.
 */
export async function fetchForService(r: FetchRequest, ready: Promise<unknown>): Promise<FetchResponse> {
  const url = new URL(r.url);
  const name = url.origin === self.location.origin ? svcName(url) : undefined;
  const body = r.method === 'GET' || r.method === 'HEAD' ? null : (r.body as Uint8Array<ArrayBuffer> | null);
  // Headers a Request may not carry (Host, Origin, ...) are dropped by the Request itself.
  const request = new Request(r.url, { method: r.method, headers: r.headers, body });
  let res: Response;
  try {
    res =
      name === undefined
        ? // Not followed: a redirect could lead where the service may not send requests.
          await fetch(request, { redirect: 'error' })
        : await answerSvc(request, name, ready, (p) => void p.catch(() => {}), { internal: true });
  } catch (e) {
    throw new HttpFetchError('destination-unavailable', `fetch of ${r.url} failed: ${(e as Error)?.message ?? e}`);
  }
  return {
    status: res.status,
    headers: [...res.headers],
    body: new Uint8Array(await res.arrayBuffer()),
    ...(res.url ? { url: res.url } : {}),
  };
}

async function answerSvc(
  request: Request,
  name: string,
  ready: Promise<unknown>,
  waitUntil: (p: Promise<unknown>) => void,
  options: { internal?: boolean } = {},
): Promise<Response> {
  const started = Date.now();
  const url = new URL(request.url);
  await ready.catch(() => {});
  const ctx = await swRunContext();
  const id = `${started.toString(36)}-${nextId++}`;
  // A call from another service runs here, not in the window: its caller may hold a worker of the
  // pool while it waits, and a chain as deep as the pool would wait for itself. Otherwise an app
  // window is offered the request while the service is read (its accept crosses meanwhile); it is
  // told to start with the job, or the offer is withdrawn (runInWindow).
  const mayUseWindow = !options.internal && !request.headers.has(CALL_HEADER);
  let handOver: (job: ServeJob | undefined) => void = () => {};
  const fromWindow = mayUseWindow
    ? runInWindow(id, name, new Promise<ServeJob | undefined>((r) => (handOver = r))).catch(() => undefined)
    : undefined;
  // Every way out that did not hand the job over withdraws the offer (a second call does nothing).
  try {
    const service = await services.get(name);
    let plan: ImagePlan | undefined;
    if (service) plan = await plans.get(new ImageStore(ctx), service.imageDigest, service.image).catch(() => undefined);
    const prepared = { service, plan };
    const log = (runner: Runner, summary: ServeSummary) =>
      new RunLog(ctx.records, undefined, { gatherMs: RUN_LOG_GATHER_MS }).add({
        service: name,
        time: started,
        method: request.method,
        path: url.pathname + url.search,
        status: summary.status,
        durationMs: Date.now() - started,
        runner,
        exitCode: summary.exitCode,
        stderrTail: summary.stderrTail,
        ...(summary.error ? { error: summary.error } : {}),
      });

    // A call from another service's run in this SW is berth's own (it passed the outgoing policy).
    const refusal = options.internal
      ? undefined
      : crossSiteRefusal(
          { method: request.method, navigation: request.mode === 'navigate', origin: request.headers.get('origin') },
          self.location.origin,
          service,
        );
    /** Berth's own answer instead of the service's, logged. */
    const refuse = (status: number, statusText: string, text: string) => {
      if (service) waitUntil(log('service-worker', { status, stderrTail: '', error: text.trim() }));
      return toResponse(
        { status, statusText, headers: [['content-type', 'text/plain; charset=utf-8']] },
        text,
        'service-worker',
        service,
      );
    };
    if (refusal)
      return refuse(
        403,
        'Forbidden',
        `berth: ${refusal}. Only berth's own pages may send it ${request.method} requests (a service marked trusted serves its pages from berth's origin).\n`,
      );

    // The body only once the request may reach the service, and to at most the service's cap.
    let request_: ServeJob['request'];
    try {
      request_ = await requestData(request, service?.limits?.requestBytes ?? DEFAULT_REQUEST_BYTES);
    } catch (e) {
      if (!isRuntimeError(e, 'resource-exhausted')) throw e;
      return refuse(413, 'Content Too Large', `berth: ${e.message}.\n`);
    }
    const job: ServeJob = {
      kind: 'serve',
      id,
      service: name,
      request: request_,
      timeoutMs: service?.limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      prepared,
    };

    if (service && fromWindow) {
      handOver(job);
      const run = await fromWindow;
      if (run) {
        waitUntil(run.done.then((s) => log('worker', s)));
        return toResponse(run.head, run.body, 'worker', service);
      }
    }
    const out = streamedResponse();
    let cut: ServeSummary | undefined;
    releaseIdleLocks(volumeLockNames(service?.volumes ?? []));
    const done = serveRequestTo(ctx, name, job.request, out.sink, prepared).then((summary) => {
      if (summary.aborted) cut = summary;
      out.end(summary);
      return summary;
    });
    waitUntil(done.then((s) => (service ? log('service-worker', s) : undefined)));
    const head = await Promise.race([out.head, done.then(() => out.head)]);
    // Cut short before anything was sent (the run could not yield, so it is already over): berth's
    // 502 instead of a truncated body.
    if (cut) {
      const r = textResponse(502, `service ${name}: ${cut.error ?? 'the response was cut short'}\n`);
      return toResponse(r, r.body as Uint8Array<ArrayBuffer>, 'service-worker', service);
    }
    return toResponse(head, out.body, 'service-worker', service);
  } finally {
    handOver(undefined);
  }
}
