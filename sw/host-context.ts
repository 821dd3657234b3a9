// The Service Worker's own HostContext, for runs with no app window open. A SW has no synchronous
// Blob reads, so layer tars are loaded into memory once and kept by diff_id.
import { IdbContentStore, IdbRecords, openBerthDb, type BerthDb } from '../runtime/content/index.ts';
import { bytesSource, ModuleCache, PlanCache, type HostContext } from '../runtime/run/index.ts';
import { instrumentDeadline } from '../runtime/wasm/index.ts';
import { type ByteSource } from '../runtime/core/index.ts';

let db: Promise<BerthDb> | undefined;
let ctx: Promise<HostContext> | undefined;
/** Image plans by digest, shared by every request this SW handles (and handed to workers). */
export const plans = new PlanCache();
const sources = new Map<string, Promise<ByteSource>>();

export function berthDb(): Promise<BerthDb> {
  return (db ??= openBerthDb());
}

export function swHostContext(): Promise<HostContext> {
  return (ctx ??= berthDb().then((d) => ({
    content: new IdbContentStore(d),
    records: new IdbRecords(d),
    // No worker can be terminated here: modules get deadline checks at loop heads instead, so a
    // runaway program cannot freeze the Service Worker for other requests.
    modules: new ModuleCache(undefined, (bytes) => instrumentDeadline(bytes)),
    byteSource: (blob: Blob, diffId: string) => {
      let s = sources.get(diffId);
      if (!s) {
        s = blob.arrayBuffer().then((b) => bytesSource(new Uint8Array(b)));
        s.catch(() => sources.delete(diffId));
        sources.set(diffId, s);
      }
      return s;
    },
  })));
}
