// The page's pool of run workers: spawned ahead of need and used once each, so every request gets
// a fresh worker and no state leaks between requests. Compiled modules are kept here and posted to
// each worker, so a module is compiled once per page. A request past its deadline has its worker
// terminated and answers 504.
import type { ImageRunJob, InteractiveRunJob, OutputEvent, RunJob, WorkerEvent, WorkerJob } from '../runtime/protocol/index.ts';
import type { RunImageResult } from '../runtime/run/index.ts';
import type { ServeSummary } from '../runtime/serve/index.ts';
import type { ResponseHead } from '../runtime/serve/index.ts';

export interface PoolOptions {
  size?: number;
  createWorker?: () => Worker;
}

export interface ServeEvents {
  head(head: ResponseHead): void;
  body(chunk: Uint8Array): void;
}

const enc = new TextEncoder();

/** How an interactive run ended: the program's exit code, a trap, or stopped by the user. */
export interface InteractiveExit {
  exitCode: number;
  trap?: string;
  /** True when stop() terminated the worker (exitCode is then 130, as after SIGINT). */
  stopped?: boolean;
}

export interface InteractiveRun {
  /** Settles when the program exits or is stopped. */
  done: Promise<InteractiveExit>;
  /** Terminates the run's worker at once (Ctrl-C). */
  stop(): void;
}

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

  /**
   * Runs an image interactively (the terminal) in a fresh worker: stdin comes live through the SW
   * (the job's stdinUrl), output reaches `output` as the program writes it. No deadline: stop() ends it.
   */
  runInteractive(job: InteractiveRunJob, output: (fd: 1 | 2, chunk: Uint8Array) => void): InteractiveRun {
    const worker = this.take();
    let settle!: (exit: InteractiveExit) => void;
    let over = false;
    const done = new Promise<InteractiveExit>((resolve) => (settle = resolve));
    const finish = (exit: InteractiveExit) => {
      if (over) return;
      over = true;
      worker.terminate();
      settle(exit);
    };
    worker.onmessage = (ev: MessageEvent<WorkerEvent | OutputEvent>) => {
      const e = ev.data;
      if (over) return;
      if (e.kind === 'output') output(e.fd, e.chunk);
      else if (e.kind === 'end') {
        this.keep(e.compiled);
        const run = e.run!;
        if (run.stderr.length > 0) output(2, run.stderr);
        finish({ exitCode: run.exitCode, ...(run.trap ? { trap: run.trap } : {}) });
      }
    };
    worker.onerror = (ev) => {
      output(2, enc.encode(`run worker failed: ${ev.message}\n`));
      finish({ exitCode: 125 });
    };
    const message: WorkerJob = { job, modules: [...this.modules] };
    worker.postMessage(message);
    return { done, stop: () => finish({ exitCode: 130, stopped: true }) };
  }
}
