// The /svc/<name>/... handler: one fresh WASI instance per request, in an app window's worker pool
// when one is open, else here in the Service Worker. Every request goes into the service's run log.
import { RecordTable } from '../runtime/content/index.ts';
import type { ServeJob } from '../runtime/protocol/index.ts';
import {
  crossSiteRefusal,
  DEFAULT_TIMEOUT_MS,
  requestData,
  RunLog,
  serveRequestTo,
  serviceResponseHeaders,
  textResponse,
  type ResponseHead,
  type ServeSummary,
  type ServiceRecord,
  type ServiceTrust,
} from '../runtime/serve/index.ts';
import type { ImagePlan } from '../runtime/run/index.ts';
import { ImageStore } from '../runtime/images/index.ts';
import { runInWindow } from './run-in-window.ts';
import { streamedResponse } from './stream-sink.ts';
import { plans, swRunContext } from './sw-context.ts';

declare const self: ServiceWorkerGlobalScope;

let nextId = 0;

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

export async function handleSvc(event: FetchEvent, name: string, ready: Promise<unknown>): Promise<Response> {
  const started = Date.now();
  const request = event.request;
  const url = new URL(request.url);
  await ready.catch(() => {});
  const ctx = await swRunContext();
  const service = await ctx.records.table<ServiceRecord>(RecordTable.Services).get(name);
  let plan: ImagePlan | undefined;
  if (service) plan = await plans.get(new ImageStore(ctx), service.imageDigest, service.image).catch(() => undefined);
  const prepared = { service, plan };
  const job: ServeJob = {
    kind: 'serve',
    id: `${started.toString(36)}-${nextId++}`,
    service: name,
    request: await requestData(request),
    timeoutMs: service?.limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    prepared,
  };
  const log = (runner: Runner, summary: ServeSummary) =>
    new RunLog(ctx.records).add({
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

  const refusal = crossSiteRefusal(
    { method: request.method, navigation: request.mode === 'navigate', origin: request.headers.get('origin') },
    self.location.origin,
    service,
  );
  if (refusal) {
    const text = `berth: ${refusal}. Only berth's own pages may send it ${request.method} requests (a service marked trusted serves its pages from berth's origin).\n`;
    if (service) event.waitUntil(log('service-worker', { status: 403, stderrTail: '', error: text.trim() }));
    return toResponse(
      { status: 403, statusText: 'Forbidden', headers: [['content-type', 'text/plain; charset=utf-8']] },
      text,
      'service-worker',
      service,
    );
  }

  if (service) {
    const fromWindow = await runInWindow(job);
    if (fromWindow) {
      event.waitUntil(fromWindow.done.then((s) => log('worker', s)));
      return toResponse(fromWindow.head, fromWindow.body, 'worker', service);
    }
  }
  const out = streamedResponse();
  let cut: ServeSummary | undefined;
  const done = serveRequestTo(ctx, name, job.request, out.sink, prepared).then((summary) => {
    if (summary.aborted) cut = summary;
    out.end(summary);
    return summary;
  });
  event.waitUntil(done.then((s) => (service ? log('service-worker', s) : undefined)));
  const head = await Promise.race([out.head, done.then(() => out.head)]);
  // Cut short before anything was sent (the run could not yield, so it is already over): berth's
  // 502 instead of a truncated body.
  if (cut) {
    const r = textResponse(502, `service ${name}: ${cut.error ?? 'the response was cut short'}\n`);
    return toResponse(r, r.body as Uint8Array<ArrayBuffer>, 'service-worker', service);
  }
  return toResponse(head, out.body, 'service-worker', service);
}
