// The page's pool of run workers: spawned ahead of need and used once each, so every request gets
// a fresh worker and no state leaks between requests. Compiled modules are kept here and posted to
// each worker, so a module is compiled once per page. A request past its deadline has its worker
// terminated and answers 504.
import type { ImageRunJob, RunImageResult, RunJob, ServeSummary, WorkerEvent, WorkerJob } from '../runtime/host/index.ts';
import type { ResponseHead } from '../runtime/host/index.ts';

export interface PoolOptions {
  size?: number;
  createWorker?: () => Worker;
}

export interface ServeEvents {
  head(head: ResponseHead): void;
  body(chunk: Uint8Array): void;
}

const enc = new TextEncoder();

export class WorkerPool {
  private readonly warm: Worker[] = [];
  private readonly modules = new Map<string, WebAssembly.Module>();
  private readonly size: number;
  private readonly create: () => Worker;
  runs = 0;

  constructor(options: PoolOptions = {}) {
    // Spawning a worker (script, IndexedDB open) takes far longer than a typical request, so keep
    // several warm even on a small machine: idle workers cost little.
    this.size = options.size ?? Math.min(8, Math.max(4, (navigator.hardwareConcurrency || 2) * 2));
    this.create = options.createWorker ?? (() => new Worker(new URL('./run-worker.ts', import.meta.url), { type: 'module', name: 'berth-run' }));
    this.refill();
  }

  private refill(): void {
    while (this.warm.length < this.size) this.warm.push(this.create());
  }

  private take(): Worker {
    const worker = this.warm.shift() ?? this.create();
    this.refill();
    this.runs++;
    return worker;
  }

  private keep(compiled: [string, WebAssembly.Module][]): void {
    for (const [key, module] of compiled) this.modules.set(key, module);
  }

  /** Serves one /svc request in a fresh worker, streaming the response into `events`. */
  serve(job: RunJob, events: ServeEvents): Promise<ServeSummary> {
    const worker = this.take();
    let headSent = false;
    return new Promise<ServeSummary>((resolve) => {
      const finish = (summary: ServeSummary) => {
        clearTimeout(timer);
        worker.terminate();
        resolve(summary);
      };
      const failWith = (status: number, text: string) => {
        if (!headSent) {
          headSent = true;
          events.head({ status, statusText: status === 504 ? 'Gateway Timeout' : 'Internal Server Error', headers: [['content-type', 'text/plain; charset=utf-8']] });
          events.body(enc.encode(text));
        }
        finish({ status, stderrTail: text });
      };
      const timer = setTimeout(() => failWith(504, `service ${job.service} did not finish within ${job.timeoutMs} ms; its worker was stopped\n`), job.timeoutMs);
      worker.onmessage = (ev: MessageEvent<WorkerEvent>) => {
        const e = ev.data;
        if (e.kind === 'head') {
          headSent = true;
          events.head(e.head);
        } else if (e.kind === 'body') events.body(e.chunk);
        else {
          this.keep(e.compiled);
          finish(e.summary!);
        }
      };
      worker.onerror = (ev) => failWith(500, `run worker failed: ${ev.message}\n`);
      const message: WorkerJob = { job, modules: [...this.modules] };
      worker.postMessage(message);
    });
  }

  /** Runs an image's entrypoint once in a fresh worker. */
  runImage(job: ImageRunJob): Promise<RunImageResult> {
    const worker = this.take();
    return new Promise<RunImageResult>((resolve, reject) => {
      worker.onmessage = (ev: MessageEvent<WorkerEvent>) => {
        if (ev.data.kind !== 'end') return;
        this.keep(ev.data.compiled);
        worker.terminate();
        resolve(ev.data.run!);
      };
      worker.onerror = (ev) => {
        worker.terminate();
        reject(new Error(`run worker failed: ${ev.message}`));
      };
      const message: WorkerJob = { job, modules: [...this.modules] };
      worker.postMessage(message);
    });
  }
}
