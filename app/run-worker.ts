/// <reference lib="webworker" />
// A run worker: serves exactly one request, reading layer bytes on demand with FileReaderSync,
// then the pool terminates it.
import { IdbContentStore, IdbRecords, openBerthDb } from '../runtime/content/index.ts';
import { blobByteSource, ModuleCache, serveRequest, textResponse, type WorkerJob, type WorkerResult } from '../runtime/host/index.ts';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<WorkerJob>) => {
  const compiled: [string, WebAssembly.Module][] = [];
  let result: WorkerResult;
  try {
    const db = await openBerthDb();
    const modules = new ModuleCache((key, m) => compiled.push([key, m]));
    for (const [key, m] of ev.data.modules) modules.set(key, m);
    const response = await serveRequest(
      { content: new IdbContentStore(db), records: new IdbRecords(db), modules, byteSource: blobByteSource },
      ev.data.job.service,
      ev.data.job.request,
    );
    db.close();
    result = { response, compiled };
  } catch (e) {
    result = { response: textResponse(500, `berth run worker: ${e instanceof Error ? e.message : String(e)}\n`), compiled };
  }
  self.postMessage(result);
};
