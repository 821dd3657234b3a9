/// <reference lib="webworker" />
// A run worker: serves exactly one request, reading layer bytes on demand with FileReaderSync,
// then the pool terminates it.
import { IdbContentStore, IdbRecords, openBerthDb } from '../runtime/content/index.ts';
import { blobByteSource, ModuleCache, runImage, serveRequest, textResponse, type WorkerJob, type WorkerResult } from '../runtime/host/index.ts';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<WorkerJob>) => {
  const compiled: [string, WebAssembly.Module][] = [];
  let result: WorkerResult;
  try {
    const db = await openBerthDb();
    const modules = new ModuleCache((key, m) => compiled.push([key, m]));
    for (const [key, m] of ev.data.modules) modules.set(key, m);
    const ctx = { content: new IdbContentStore(db), records: new IdbRecords(db), modules, byteSource: blobByteSource };
    const job = ev.data.job;
    if ('service' in job) {
      result = { response: await serveRequest(ctx, job.service, job.request), compiled };
    } else {
      result = { run: await runImage(ctx, job.image, { args: job.args, stdin: job.stdin }), compiled };
    }
    db.close();
  } catch (e) {
    const message = `berth run worker: ${e instanceof Error ? e.message : String(e)}\n`;
    result = 'service' in ev.data.job ? { response: textResponse(500, message), compiled } : { run: { exitCode: 125, stdout: new Uint8Array(), stderr: new TextEncoder().encode(message) }, compiled };
  }
  self.postMessage(result);
};
