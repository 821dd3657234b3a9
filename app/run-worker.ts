/// <reference lib="webworker" />
// A run worker: runs jobs (a /svc request, a Run, or a terminal session) one at a time, each in a
// fresh WebAssembly instance over a fresh writable upper, reading layer bytes on demand with
// FileReaderSync and posting the job's events as the program writes. Between jobs it keeps what is
// safe to share: the open database and the compiled modules. The pool replaces it after a trap, a
// deadline or a stop (see app/worker-pool.ts).
import { IdbContentStore, IdbRecords, openBerthDb } from '../runtime/content/index.ts';
import {
  eventBuffers,
  PlanKeeper,
  type EndEvent,
  type JobEvent,
  type Job,
  type JobKind,
  type JobResults,
  type WorkerControlMessage,
  type WorkerJobMessage,
  type WorkerMessage,
} from '../runtime/protocol/index.ts';
import {
  cacheApiModuleStore,
  keptVolumeLocks,
  ModuleCache,
  prepareImage,
  volumeLockNames,
  runImage,
  workerComponentLoader,
  workerRunContext,
} from '../runtime/run/index.ts';
import { xhrRunClosed, xhrStdinSource } from '../runtime/run/stdin-channel.ts';
import { instrumentDeadline } from '../runtime/wasm/index.ts';
import { onBlocking } from '../runtime/wasi/index.ts';
import {
  DEFAULT_MEMORY_BYTES,
  DEFAULT_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  serveRequestTo,
  type ResponseHead,
} from '../runtime/serve/index.ts';

declare const self: DedicatedWorkerGlobalScope;

// Workers are spawned ahead of their job, so the database is opened before the request arrives.
const dbReady = openBerthDb();
/** The image plans the pool sent with earlier jobs (it sends each once; see plan-relay.ts). */
const plans = new PlanKeeper();
const enc = new TextEncoder();

/** One job at a time, so one flag says whether its response head is out (reset per job). */
let headSent = false;

// A /svc job's events are gathered and posted together (one message is one task on the page, and
// one more on the SW after it): those written in one run of this thread go at the end of it, with
// the job's end if it comes by then (a small response: head, body and end in one message). They go
// out at once when the oldest is FLUSH_MS old (a program writing as it computes, without yielding,
// still streams), when FLUSH_BYTES are waiting, before the program sleeps blocking this thread
// (onBlocking: no timer fires then), before it waits for the client (backpressure), and with `end`.
// A terminal's output is posted as written: its program blocks in stdin reads.
const FLUSH_MS = 2;
const FLUSH_BYTES = 256 << 10;
let gathered: JobEvent[] = [];
let gatheredBytes = 0;
let gatheredAt = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
function flush(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (gathered.length === 0) return;
  const events = gathered;
  gathered = [];
  gatheredBytes = 0;
  const m: WorkerMessage = events.length === 1 ? events[0] : { kind: 'events', events };
  self.postMessage(m, eventBuffers(events));
}
const post = (m: JobEvent) => {
  if (m.kind === 'head') headSent = true;
  if (gathered.length === 0) gatheredAt = performance.now();
  gathered.push(m);
  if (m.kind === 'body' || m.kind === 'output') gatheredBytes += m.chunk.length;
  if (
    m.kind === 'end' ||
    m.kind === 'output' ||
    gatheredBytes >= FLUSH_BYTES ||
    performance.now() - gatheredAt >= FLUSH_MS
  )
    flush();
  else flushTimer ??= setTimeout(flush, 0);
};
onBlocking(flush);
const end = <K extends JobKind>(id: string, job: K, result: JobResults[K]) =>
  post({ kind: 'end', id, job, result } as EndEvent);

async function run(job: Job, modules: ModuleCache): Promise<void> {
  // A job may block this thread (a synchronous call to another service, a blocking sleep, a long
  // run): locks kept idle from earlier jobs are let go first, or whoever waits for them (even the
  // SW serving this job's own call) would wait until this job ends. This job's volumes stay kept.
  lock.releaseIdle(volumeLockNames(job.kind === 'serve' ? (job.prepared?.service?.volumes ?? []) : []));
  const db = await dbReady;
  const ctx = workerRunContext(
    { content: new IdbContentStore(db), records: new IdbRecords(db) },
    { modules, components, lock },
  );
  const { id } = job;
  switch (job.kind) {
    case 'serve': {
      const sink = {
        head: (head: ResponseHead) => post({ kind: 'head', id, head }),
        body: (chunk: Uint8Array) => {
          flow.posted += chunk.length;
          post({ kind: 'body', id, chunk: chunk.slice() });
        },
        // With JSPI the program waits in fd_write while the client is too far behind.
        ready: () => {
          if (flow.posted - flow.consumed <= UNCONSUMED) return undefined;
          flush(); // the credits that end the wait come for bytes the client was sent
          return new Promise<void>((r) => flow.waiters.push(r));
        },
      };
      return end(id, 'serve', await serveRequestTo(ctx, job.service, job.request, sink, job.prepared));
    }
    case 'interactive': {
      // The terminal: stdin read live through the SW's stdin route, output posted as written.
      const output = (fd: 1 | 2) => (chunk: Uint8Array) => post({ kind: 'output', id, fd, chunk: chunk.slice() });
      const stdin = xhrStdinSource(job.stdinUrl, (message) => output(2)(enc.encode(`berth: ${message}\n`)));
      // Ctrl-C terminates this worker; where that does not stop wasm (WebKit), the program asks.
      const stopped = xhrRunClosed(job.stdinUrl);
      const command = job.command ? { entrypoint: job.command } : {};
      const r = await runImage(ctx, job.image, {
        ...command,
        stdin,
        stopped,
        stdout: output(1),
        stderr: output(2),
        terminal: { stdin: true, stdout: true, stderr: true },
      });
      return end(id, 'interactive', { exitCode: r.exitCode, ...(r.trap ? { trap: r.trap } : {}) });
    }
    case 'run-image':
      // A one-shot run whose output is collected whole: a service's limits (an image's program
      // printing without end took 1.1 GB/s of the worker's memory, with no deadline).
      return end(
        id,
        'run-image',
        await runImage(ctx, job.image, {
          args: job.args,
          stdin: job.stdin,
          timeoutMs: DEFAULT_TIMEOUT_MS,
          maxOutputBytes: DEFAULT_OUTPUT_BYTES,
          maxMemoryBytes: DEFAULT_MEMORY_BYTES,
        }),
      );
    case 'prepare': {
      const component = await prepareImage(ctx, job.image, job.entrypoint ? { entrypoint: job.entrypoint } : {}, {
        maxMemoryBytes: job.maxMemoryBytes,
      });
      return end(id, 'prepare', { component });
    }
  }
}

/** A failure of berth itself (not of the program), answered in the job's own terms. */
function fail(job: Job, e: unknown): void {
  const message = `berth run worker: ${e instanceof Error ? e.message : String(e)}\n`;
  const { id } = job;
  switch (job.kind) {
    case 'serve':
      if (!headSent) {
        post({
          kind: 'head',
          id,
          head: {
            status: 500,
            statusText: 'Internal Server Error',
            headers: [['content-type', 'text/plain; charset=utf-8']],
          },
        });
        post({ kind: 'body', id, chunk: enc.encode(message) });
      }
      return end(id, 'serve', { status: 500, stderrTail: message, ...(headSent ? { aborted: true } : {}) });
    case 'interactive':
      post({ kind: 'output', id, fd: 2, chunk: enc.encode(message) });
      return end(id, 'interactive', { exitCode: 125 });
    case 'run-image':
      return end(id, 'run-image', { exitCode: 125, stdout: new Uint8Array(), stderr: enc.encode(message) });
    case 'prepare':
      return end(id, 'prepare', { component: false, error: message });
  }
}

// A module compiled here goes to the page at once (before `end`, after which the page may terminate
// this worker), so the page compiles each module once and can hand it to its other workers.
// Modules are metered for deadlines here too, as in the SW (and kept under the same Cache API key):
// the pool's terminate() is not enough everywhere. WebKit's does not stop a worker spinning in wasm:
// three runaways it had "stopped" kept its web process at 200% CPU on two cores.
const modules = new ModuleCache(
  (key, m) => self.postMessage({ kind: 'compiled', modules: [[key, m]] } satisfies WorkerMessage),
  (bytes) => instrumentDeadline(bytes),
  cacheApiModuleStore('metered'),
);

/** Components made runnable here, kept for every job of this worker. */
const components = workerComponentLoader();

/**
 * Volume locks kept a moment after a job, as the SW keeps them (volume-locks.ts): the pool hands
 * requests in a row to the worker that ran the last one, which then skips the lock's round trip
 * and the volume's read. Another worker or the SW that finds the lock taken says so, and it is let
 * go once the job under way is done; a job that does not use it lets it go when it starts (see
 * run()). A terminated worker's locks are let go by the browser.
 */
const lock = keptVolumeLocks();

/** Body bytes of the current job posted, and consumed by the client (credits from the SW). */
const UNCONSUMED = 2 << 20;
let flow = { id: '', posted: 0, consumed: 0, waiters: [] as (() => void)[] };

self.onmessage = async (ev: MessageEvent<WorkerJobMessage | WorkerControlMessage>) => {
  if (ev.data.kind === 'credit') {
    if (ev.data.id !== flow.id) return;
    flow.consumed = Math.max(flow.consumed, ev.data.consumed);
    if (flow.posted - flow.consumed <= UNCONSUMED) for (const go of flow.waiters.splice(0)) go();
    return;
  }
  const job = ev.data.job.kind === 'serve' ? plans.fill(ev.data.job) : ev.data.job;
  flow = { id: job.id, posted: 0, consumed: 0, waiters: [] };
  headSent = false;
  for (const [key, m] of ev.data.modules) modules.set(key, m);
  try {
    await run(job, modules);
  } catch (e) {
    fail(job, e);
  }
};
