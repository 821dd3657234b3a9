// The page's pool of run workers: spawned ahead of need and used once each, so every request gets
// a fresh worker and no state leaks between requests. Compiled modules are kept here and posted to
// each worker, so a module is compiled once per page.
import type { HttpResponseData, ImageRunJob, RunImageResult, RunJob, WorkerJob, WorkerResult } from '../runtime/host/index.ts';

export interface PoolOptions {
  size?: number;
  createWorker?: () => Worker;
}

export class WorkerPool {
  private readonly warm: Worker[] = [];
  private readonly modules = new Map<string, WebAssembly.Module>();
  private readonly size: number;
  private readonly create: () => Worker;
  runs = 0;

  constructor(options: PoolOptions = {}) {
    this.size = options.size ?? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
    this.create = options.createWorker ?? (() => new Worker(new URL('./run-worker.ts', import.meta.url), { type: 'module', name: 'berth-run' }));
    this.refill();
  }

  private refill(): void {
    while (this.warm.length < this.size) this.warm.push(this.create());
  }

  /** Serves one /svc request in a fresh worker. */
  async run(job: RunJob): Promise<HttpResponseData> {
    return (await this.dispatch(job)).response!;
  }

  /** Runs an image's entrypoint once in a fresh worker. */
  async runImage(job: ImageRunJob): Promise<RunImageResult> {
    return (await this.dispatch(job)).run!;
  }

  private dispatch(job: RunJob | ImageRunJob): Promise<WorkerResult> {
    const worker = this.warm.shift() ?? this.create();
    this.refill();
    this.runs++;
    return new Promise<WorkerResult>((resolve, reject) => {
      worker.onmessage = (ev: MessageEvent<WorkerResult>) => {
        for (const [key, module] of ev.data.compiled) this.modules.set(key, module);
        worker.terminate();
        resolve(ev.data);
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
