// The Service Worker's database, run context and image plans, opened once and shared by every
// request it handles.
import {
  BLOB_DELETIONS_CHANNEL,
  IdbContentStore,
  IdbRecords,
  openBerthDb,
  type BerthDb,
} from '../runtime/content/index.ts';
import { PlanCache, serviceWorkerRunContext, type RunContext } from '../runtime/run/index.ts';
import type { AsyncFetch } from '../runtime/component/index.ts';

let db: Promise<BerthDb> | undefined;
let ctx: Promise<RunContext> | undefined;
/** Image plans by digest, shared by every request this SW handles (and handed to workers). */
export const plans = new PlanCache();
// A plan holds Blob handles; once any blob is deleted (an image removed, a collection), plans are
// made again from the store (WebKit's old handles fail with NotFoundError even for bytes stored anew).
new BroadcastChannel(BLOB_DELETIONS_CHANNEL).onmessage = () => plans.clear();

export function berthDb(): Promise<BerthDb> {
  return (db ??= openBerthDb());
}

let serviceFetch: AsyncFetch | undefined;
/** How runs in this SW send their wasi:http requests (sw.ts sets it: svc-handler's fetchForService). */
export function setServiceFetch(f: AsyncFetch): void {
  serviceFetch = f;
}

export function swRunContext(): Promise<RunContext> {
  return (ctx ??= berthDb().then((d) =>
    serviceWorkerRunContext(
      { content: new IdbContentStore(d), records: new IdbRecords(d) },
      {
        httpFetchAsync: (r) =>
          serviceFetch ? serviceFetch(r) : Promise.reject(new Error('the SW has no fetch for services')),
      },
    ),
  ));
}
