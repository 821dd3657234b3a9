// The /svc/<name>/... handler: one fresh WASI instance per request, in an app window's worker pool
// when one is open, else here in the Service Worker.
import { requestData, serveRequest, type HttpResponseData } from '../runtime/host/index.ts';
import { runInWindow } from './run-in-window.ts';
import { swHostContext } from './host-context.ts';
import { svcName } from './svc-name.ts';

let nextId = 0;

/** Where the instance ran, for the run log and for tests: an app window's worker or this SW. */
export type Runner = 'worker' | 'service-worker';

export function toResponse(r: HttpResponseData, runner: Runner): Response {
  const nullBody = r.status === 204 || r.status === 205 || r.status === 304;
  const headers = new Headers(r.headers);
  headers.set('X-Berth-Runner', runner);
  return new Response(nullBody ? null : (r.body as Uint8Array<ArrayBuffer>), { status: r.status, statusText: r.statusText, headers });
}

export async function handleSvc(request: Request, ready: Promise<unknown>): Promise<Response> {
  const url = new URL(request.url);
  const service = svcName(url)!;
  await ready.catch(() => {});
  const job = { id: `${Date.now().toString(36)}-${nextId++}`, service, request: await requestData(request) };
  const fromWindow = await runInWindow(job);
  if (fromWindow) return toResponse(fromWindow, 'worker');
  return toResponse(await serveRequest(await swHostContext(), service, job.request), 'service-worker');
}
