// The page's pool of run workers: spawned ahead of need and used once each, so every job gets a
// fresh worker and no state leaks between jobs. Compiled modules are kept here and posted to each
// worker, so a module is compiled once per page. A /svc job past its deadline has its worker
// terminated and answers 504. A worker's events are handed on unchanged (see runtime/protocol).
import type {
  EndEvent,
  ImageRunJob,
  InteractiveExit,
  InteractiveJob,
  JobEvent,
  JobOf,
  JobKind,
  ServeJob,
  WorkerJobMessage,
  WorkerMessage,
} from '../runtime/protocol/index.ts';
import type { RunImageResult } from '../runtime/run/index.ts';
import type { ServeSummary } from '../runtime/serve/index.ts';

export interface PoolOptions {
  size?: number;
  createWorker?: () => Worker;
}

const enc = new TextEncoder();

/** How an interactive run ended: the program's exit, or stopped by the user. */
export interface InteractiveOutcome extends InteractiveExit {
  /** True when stop() terminated the worker (exitCode is then 130, as after SIGINT). */
  stopped?: boolean;
}

export interface InteractiveRun {
  /** Settles when the program exits or is stopped. */
  done: Promise<InteractiveOutcome>;
  /** Terminates the run's worker at once (Ctrl-C). */
  stop(): void;
}

/** A job running in a worker: its events as they come, and a way to end it early. */
interface Running<K extends JobKind> {
  worker: Worker;
  /** Settles with the `end` event (the worker's, or one made up by `abort`). */
  ended: Promise<EndEvent<K>>;
  /** Ends the job now: `before` then `end` go to `onEvent`, and its worker is terminated. */
  abort(before: JobEvent<K>[], end: EndEvent<K>): void;
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
    this.create =
      options.createWorker ??
      (() => new Worker(new URL('./run-worker.ts', import.meta.url), { type: 'module', name: 'berth-run' }));
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

  /** Starts `job` in a fresh worker; `onEvent` sees each of its events, `end` last and once. */
  private start<K extends JobKind>(
    job: JobOf<K>,
    onEvent: (e: JobEvent<K>) => void,
    onCrash: (message: string) => EndEvent<K>,
  ): Running<K> {
    const worker = this.take();
    let over = false;
    let settle!: (e: EndEvent<K>) => void;
    const ended = new Promise<EndEvent<K>>((r) => (settle = r));
    const finish = (end: EndEvent<K>) => {
      if (over) return;
      over = true;
      worker.terminate();
      onEvent(end as unknown as JobEvent<K>);
      settle(end);
    };
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
      const m = ev.data;
      if (over) return;
      if (m.kind === 'compiled') for (const [key, module] of m.modules) this.modules.set(key, module);
      else if (m.kind === 'end') finish(m as EndEvent<K>);
      else onEvent(m as JobEvent<K>);
    };
    worker.onerror = (ev) => finish(onCrash(`run worker failed: ${ev.message}\n`));
    const message: WorkerJobMessage = { kind: 'job', job, modules: [...this.modules] };
    worker.postMessage(message);
    return {
      worker,
      ended,
      abort: (before, end) => {
        if (over) return;
        for (const e of before) onEvent(e);
        finish(end);
      },
    };
  }

  /** Serves one /svc request in a fresh worker; its events (head, body..., end) go to `onEvent`. */
  serve(job: ServeJob, onEvent: (e: JobEvent<'serve'>) => void): Promise<ServeSummary> {
    const { id } = job;
    let headSent = false;
    const failWith = (status: number, text: string): [JobEvent<'serve'>[], EndEvent<'serve'>] => {
      const head: JobEvent<'serve'>[] = headSent
        ? []
        : [
            {
              kind: 'head',
              id,
              head: {
                status,
                statusText: status === 504 ? 'Gateway Timeout' : 'Internal Server Error',
                headers: [['content-type', 'text/plain; charset=utf-8']],
              },
            },
            { kind: 'body', id, chunk: enc.encode(text) },
          ];
      return [head, { kind: 'end', id, job: 'serve', result: { status, stderrTail: text } }];
    };
    const running = this.start<'serve'>(
      job,
      (e) => {
        if (e.kind === 'head') headSent = true;
        onEvent(e);
      },
      (message) => {
        const [before, end] = failWith(500, message);
        for (const e of before) onEvent(e);
        return end;
      },
    );
    const timer = setTimeout(
      () =>
        running.abort(
          ...failWith(
            504,
            `service ${job.service} did not finish within ${job.timeoutMs} ms; its worker was stopped\n`,
          ),
        ),
      job.timeoutMs,
    );
    return running.ended.then((end) => {
      clearTimeout(timer);
      return end.result;
    });
  }

  /** Runs an image's entrypoint once in a fresh worker. */
  async runImage(job: ImageRunJob): Promise<RunImageResult> {
    const crash = (message: string): EndEvent<'run-image'> => ({
      kind: 'end',
      id: job.id,
      job: 'run-image',
      result: { exitCode: 125, stdout: new Uint8Array(), stderr: enc.encode(message) },
    });
    return (await this.start<'run-image'>(job, () => {}, crash).ended).result;
  }

  /**
   * Runs an image interactively (the terminal) in a fresh worker: stdin comes live through the SW
   * (the job's stdinUrl), output reaches `output` as the program writes it. No deadline: stop() ends it.
   */
  runInteractive(job: InteractiveJob, output: (fd: 1 | 2, chunk: Uint8Array) => void): InteractiveRun {
    let stopped = false;
    const running = this.start<'interactive'>(
      job,
      (e) => {
        if (e.kind === 'output') output(e.fd, e.chunk);
      },
      (message) => {
        output(2, enc.encode(message));
        return { kind: 'end', id: job.id, job: 'interactive', result: { exitCode: 125 } };
      },
    );
    return {
      done: running.ended.then((end) => ({ ...end.result, ...(stopped ? { stopped } : {}) })),
      stop: () => {
        stopped = true;
        running.abort([], { kind: 'end', id: job.id, job: 'interactive', result: { exitCode: 130 } });
      },
    };
  }
}
