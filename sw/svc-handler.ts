// The /svc/<name>/... handler: one fresh WASI instance per request, in an app window's worker pool
// when one is open, else here in the Service Worker. Every request goes into the service's run log.
import { RecordTable } from '../runtime/content/index.ts';
import { DEFAULT_TIMEOUT_MS, requestData, RunLog, serveRequestTo, CollectingSink, type ResponseHead, type ServeSummary, type ServiceRecord } from '../runtime/serve/index.ts';
import { type ImagePlan } from '../runtime/run/index.ts';
import { ImageStore } from '../runtime/images/index.ts';
import { runInWindow } from './run-in-window.ts';
import { plans, swHostContext } from './host-context.ts';
import { svcName } from './svc-name.ts';

let nextId = 0;

/** Where the instance ran, for the run log and for tests: an app window's worker or this SW. */
export type Runner = 'worker' | 'service-worker';

export function toResponse(head: ResponseHead, body: BodyInit | null, runner: Runner): Response {
  const nullBody = head.status === 204 || head.status === 205 || head.status === 304 || head.status < 200;
  const headers = new Headers(head.headers);
  headers.set('X-Berth-Runner', runner);
  return new Response(nullBody ? null : body, { status: head.status < 200 ? 502 : head.status, statusText: head.statusText, headers });
}

export async function handleSvc(event: FetchEvent, ready: Promise<unknown>): Promise<Response> {
  const started = Date.now();
  const request = event.request;
  const url = new URL(request.url);
  const name = svcName(url)!;
  await ready.catch(() => {});
  const ctx = await swHostContext();
  const service = await ctx.records.table<ServiceRecord>(RecordTable.Services).get(name);
  let plan: ImagePlan | undefined;
  if (service) plan = await plans.get(new ImageStore(ctx), service.imageDigest, service.image).catch(() => undefined);
  const prepared = { service, plan };
  const job = {
    id: `${started.toString(36)}-${nextId++}`,
    service: name,
    request: await requestData(request),
    timeoutMs: service?.limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    prepared,
  };
  const log = (runner: Runner, summary: ServeSummary) =>
    new RunLog(ctx.records).add({ service: name, time: started, method: request.method, path: url.pathname + url.search, status: summary.status, durationMs: Date.now() - started, runner, exitCode: summary.exitCode, stderrTail: summary.stderrTail });

  if (service) {
    const fromWindow = await runInWindow(job);
    if (fromWindow) {
      event.waitUntil(fromWindow.done.then((s) => log('worker', s)));
      return toResponse(fromWindow.head, fromWindow.body, 'worker');
    }
  }
  const sink = new CollectingSink();
  const summary = await serveRequestTo(ctx, name, job.request, sink, prepared);
  if (service) event.waitUntil(log('service-worker', summary));
  return toResponse(sink.received!, sink.bodyBytes() as Uint8Array<ArrayBuffer>, 'service-worker');
}
