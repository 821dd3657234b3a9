/// <reference lib="webworker" />
// A run worker: serves exactly one request (or one Run), reading layer bytes on demand with
// FileReaderSync and posting the response head and body chunks as the program writes them; then
// the pool terminates it.
import { IdbContentStore, IdbRecords, openBerthDb } from '../runtime/content/index.ts';
import { blobByteSource, ModuleCache, runImage } from '../runtime/run/index.ts';
import { serveRequestTo } from '../runtime/serve/index.ts';
import { type OutputEvent, type WorkerEvent, type WorkerJob } from '../runtime/protocol/index.ts';
import { xhrStdinSource } from '../runtime/run/stdin-channel.ts';

declare const self: DedicatedWorkerGlobalScope;

// Workers are spawned ahead of their job, so the database is opened before the request arrives.
const dbReady = openBerthDb();

const post = (e: WorkerEvent) => self.postMessage(e, e.kind === 'body' ? [e.chunk.buffer] : []);

self.onmessage = async (ev: MessageEvent<WorkerJob>) => {
  const compiled: [string, WebAssembly.Module][] = [];
  const job = ev.data.job;
  try {
    const db = await dbReady;
    const modules = new ModuleCache((key, m) => compiled.push([key, m]));
    for (const [key, m] of ev.data.modules) modules.set(key, m);
    const ctx = { content: new IdbContentStore(db), records: new IdbRecords(db), modules, byteSource: blobByteSource };
    if ('service' in job) {
      const summary = await serveRequestTo(
        ctx,
        job.service,
        job.request,
        { head: (head) => post({ kind: 'head', head }), body: (chunk) => post({ kind: 'body', chunk: chunk.slice() }) },
        job.prepared,
      );
      post({ kind: 'end', summary, compiled });
    } else if ('interactive' in job) {
      // The terminal: stdin read live through the SW's stdin route, output posted as written.
      const output = (fd: 1 | 2) => (chunk: Uint8Array) => self.postMessage({ kind: 'output', fd, chunk } satisfies OutputEvent);
      const stdin = xhrStdinSource(job.stdinUrl, (message) => output(2)(new TextEncoder().encode(`berth: ${message}\n`)));
      const r = await runImage(ctx, job.image, { ...(job.command ? { entrypoint: job.command } : {}), stdin, stdout: output(1), stderr: output(2) });
      // Everything was already posted as it came: the end carries only the exit.
      post({ kind: 'end', run: { exitCode: r.exitCode, stdout: new Uint8Array(), stderr: new Uint8Array(), ...(r.trap ? { trap: r.trap } : {}) }, compiled });
    } else {
      post({ kind: 'end', run: await runImage(ctx, job.image, { args: job.args, stdin: job.stdin }), compiled });
    }
  } catch (e) {
    const message = `berth run worker: ${e instanceof Error ? e.message : String(e)}\n`;
    if ('service' in job) {
      post({ kind: 'head', head: { status: 500, statusText: 'Internal Server Error', headers: [['content-type', 'text/plain; charset=utf-8']] } });
      post({ kind: 'body', chunk: new TextEncoder().encode(message) });
      post({ kind: 'end', summary: { status: 500, stderrTail: message }, compiled });
    } else {
      post({ kind: 'end', run: { exitCode: 125, stdout: new Uint8Array(), stderr: new TextEncoder().encode(message) }, compiled });
    }
  }
};
