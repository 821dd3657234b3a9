// The Service Worker's database, run context and image plans, opened once and shared by every
// request it handles.
import {
  BLOB_DELETIONS_CHANNEL,
  IdbContentStore,
  IdbRecords,
  openBerthDb,
  RecordCache,
  RecordTable,
  type BerthDb,
} from '../runtime/content/index.ts';
import { isRecordsChanged, RECORDS_CHANNEL } from '../runtime/protocol/index.ts';
import {
  keptVolumeLocks,
  type LeasedLocks,
  PlanCache,
  serviceWorkerRunContext,
  type RunContext,
} from '../runtime/run/index.ts';
import type { ServiceRecord } from '../runtime/serve/index.ts';
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

/**
 * Service records by name, read once per SERVICE_TTL_MS instead of once per request. Writers say
 * when they changed one: this SW's own writes through `swRecords`; an app page's through its write
 * hook (app/records-notify.ts), answered in sw.ts when this SW controls the page, else heard on
 * RECORDS_CHANNEL. The TTL is for a writer that cannot say so (an app page of an older berth, open
 * across an update). Run workers do not write service records.
 */
const SERVICE_TTL_MS = 2000;
export const services = new RecordCache<ServiceRecord>(
  async (name) => (await swRunContext()).records.table<ServiceRecord>(RecordTable.Services).get(name),
  SERVICE_TTL_MS,
);

/** What a change to `table` means here. */
export function recordsChanged(table: string, keys: readonly string[]): void {
  if (table === RecordTable.Services) services.drop(keys);
}
new BroadcastChannel(RECORDS_CHANNEL).onmessage = (ev: MessageEvent) => {
  if (isRecordsChanged(ev.data)) recordsChanged(ev.data.table, ev.data.keys);
};

/** Record tables for this SW's own use: its writes to services reach the cache above at once. */
export function swRecords(d: BerthDb): IdbRecords {
  return new IdbRecords(d, { watched: [RecordTable.Services], written: recordsChanged });
}

let serviceFetch: AsyncFetch | undefined;
/** How runs in this SW send their wasi:http requests (sw.ts sets it: svc-handler's fetchForService). */
export function setServiceFetch(f: AsyncFetch): void {
  serviceFetch = f;
}

/**
 * Volume locks kept a moment after a run here: requests in a row to a service with a volume skip
 * the Web Lock's round trip and the volume's read (volume-locks.ts). Made on first use: this module
 * is also loaded where there is no navigator (unit tests in Node).
 */
let volumeLocks: LeasedLocks | undefined;
const swLocks = () => (volumeLocks ??= keptVolumeLocks());

/**
 * Before a run here that may block this thread (an engine without JSPI runs a program without
 * pausing): lets go of the volume locks kept idle, except the run's own (`keep`).
 */
export function releaseIdleLocks(keep: readonly string[]): void {
  swLocks().releaseIdle(keep);
}

export function swRunContext(): Promise<RunContext> {
  return (ctx ??= berthDb().then((d) =>
    serviceWorkerRunContext(
      { content: new IdbContentStore(d), records: swRecords(d) },
      {
        httpFetchAsync: (r) =>
          serviceFetch ? serviceFetch(r) : Promise.reject(new Error('the SW has no fetch for services')),
        lock: swLocks(),
      },
    ),
  ));
}
