// The page's pool of run workers. Per-request isolation is a fresh WebAssembly instance and a fresh
// writable upper for every job, not a fresh worker: a worker runs one job at a time and is reused
// (spawning one costs a script load and an IndexedDB open, far more than a request). A worker is
// replaced after a job that did not end normally (a trap, a deadline, a stop, a crash) and after
// MAX_JOBS jobs, so whatever a long life leaks stays bounded. Compiled modules are kept here and
// handed to each worker once. A /svc job past its deadline has its worker terminated and answers
// 504. A worker's events are handed on unchanged (see runtime/protocol).
import {
  eventsOf,
  PlanSender,
  type EndEvent,
  type ImageRunJob,
  type PrepareJob,
  type PrepareResult,
  type InteractiveExit,
  type InteractiveJob,
  type JobEvent,
  type JobOf,
  type JobKind,
  type ServeJob,
  type WorkerControlMessage,
  type WorkerJobMessage,
  type WorkerMessage,
} from '../runtime/protocol/index.ts';
import type { RunImageResult } from '../runtime/run/index.ts';
import type { ServeSummary } from '../runtime/serve/index.ts';

export interface PoolOptions {
  /** Idle workers kept warm. */
  size?: number;
  createWorker?: () => Worker;
}

const enc = new TextEncoder();
/** How long past its deadline a metered program gets to stop itself before its worker is terminated. */
const SELF_STOP_GRACE_MS = 300;

/** Jobs a worker runs before it is replaced. */
const MAX_JOBS = 500;

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
  /** Settles with the `end` event (the worker's, or one made up by `abort`). */
  ended: Promise<EndEvent<K>>;
  /** Ends the job now: `before` then `end` go to `onEvent`, and its worker is terminated. */
  abort(before: JobEvent<K>[], end: EndEvent<K>): void;
  /** Passes a control message to the job's worker (dropped once the job is over). */
  send(m: WorkerControlMessage): void;
}

/** Filled in by `serve`: how to reach the job's worker while it runs (credits, for backpressure). */
export interface JobControl {
  send?(m: WorkerControlMessage): void;
}

interface PooledWorker {
  worker: Worker;
  jobs: number;
  /** Module keys this worker was given or compiled itself. */
  has: Set<string>;
  /** The image plans this worker was sent (each goes once; see plan-relay.ts). */
  plans: PlanSender;
}

/** Whether a job ended the way a healthy worker ends it (else the worker is replaced). */
function endedNormally(end: EndEvent): boolean {
  const r = end.result as { trap?: string; deadline?: boolean; aborted?: boolean; status?: number };
  return !r.trap && !r.deadline && !r.aborted && r.status !== 500;
}

export class WorkerPool {
  private readonly idle: PooledWorker[] = [];
  /** Jobs waiting for a worker (all `size` pooled workers are busy), oldest first. */
  private readonly queue: ((w: PooledWorker) => void)[] = [];
  private readonly modules = new Map<string, WebAssembly.Module>();
  private readonly size: number;
  private readonly create: () => Worker;
  /** Pooled workers alive, idle or busy. */
  private live = 0;
  /** Jobs started, for tests and the console. */
  runs = 0;
  /** Workers spawned, for tests and the console. */
  spawned = 0;

  constructor(options: PoolOptions = {}) {
    // One worker more than cores (4 at most): a worker that ended a job waits for its next one to
    // come from this page (a message each way), and the spare keeps the cores busy meanwhile. On 2
    // cores, 8 /svc requests in flight went from 1.26x to 1.45x the sequential rate with 3 workers
    // instead of 2 (4: the same as 3). A terminal session gets a worker of its own.
    const cores = Math.max(2, navigator.hardwareConcurrency || 2);
    this.size = options.size ?? Math.min(4, cores + 1);
    this.create =
      options.createWorker ??
      (() => new Worker(new URL('./run-worker.ts', import.meta.url), { type: 'module', name: 'berth-run' }));
    // A warm worker has its script loaded and its database open before the first request. The
    // spare is spawned when first needed (all the others busy), not while the page starts.
    for (let i = 0; i < Math.min(this.size, cores); i++) this.idle.push(this.spawn());
  }

  private spawn(): PooledWorker {
    this.spawned++;
    this.live++;
    return { worker: this.create(), jobs: 0, has: new Set(), plans: new PlanSender() };
  }

  /** A pooled worker for a job, now or as soon as one is free. */
  private acquire(): PooledWorker | Promise<PooledWorker> {
    const w = this.idle.pop() ?? (this.live < this.size ? this.spawn() : undefined);
    return w ?? new Promise((r) => this.queue.push(r));
  }

  /** A worker back from a job: reused if healthy, else replaced; the next queued job gets it. */
  private giveBack(w: PooledWorker, healthy: boolean): void {
    let next = w;
    if (!healthy || w.jobs >= MAX_JOBS) {
      w.worker.terminate();
      this.live--;
      next = this.spawn();
    }
    const waiting = this.queue.shift();
    if (waiting) waiting(next);
    else this.idle.push(next);
  }

  /**
   * Starts `job` in a pooled worker (or, with `own`, a worker of its own that ends with it);
   * `onEvent` sees each of its events, `end` last and once.
   */
  private start<K extends JobKind>(
    job: JobOf<K>,
    onEvent: (e: JobEvent<K>) => void,
    onCrash: (message: string) => EndEvent<K>,
    own = false,
  ): Running<K> {
    this.runs++;
    let over = false;
    let w: PooledWorker | undefined;
    let settle!: (e: EndEvent<K>) => void;
    const ended = new Promise<EndEvent<K>>((r) => (settle = r));
    const finish = (end: EndEvent<K>, healthy: boolean) => {
      if (over) return;
      over = true;
      if (w) {
        w.worker.onmessage = null;
        w.worker.onerror = null;
        if (own) w.worker.terminate();
        else this.giveBack(w, healthy && endedNormally(end as EndEvent));
      }
      onEvent(end as unknown as JobEvent<K>);
      settle(end);
    };
    const run = (got: PooledWorker) => {
      if (over) return this.giveBack(got, true); // aborted while it waited
      w = got;
      w.jobs++;
      w.worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
        const m = ev.data;
        if (over) return;
        if (m.kind === 'compiled') {
          for (const [key, module] of m.modules) {
            this.modules.set(key, module);
            got.has.add(key);
          }
          return;
        }
        for (const e of eventsOf(m)) {
          if (over) return;
          if (e.kind === 'end') finish(e as EndEvent<K>, true);
          else onEvent(e as JobEvent<K>);
        }
      };
      w.worker.onerror = (ev) => finish(onCrash(`run worker failed: ${ev.message}\n`), false);
      const fresh = [...this.modules].filter(([key]) => !got.has.has(key));
      for (const [key] of fresh) got.has.add(key);
      const sent = job.kind === 'serve' ? (got.plans.strip(job as ServeJob) as JobOf<K>) : job;
      const message: WorkerJobMessage = { kind: 'job', job: sent, modules: fresh };
      w.worker.postMessage(message);
    };
    if (own) {
      this.spawned++;
      run({ worker: this.create(), jobs: 0, has: new Set(), plans: new PlanSender() });
    } else {
      const got = this.acquire();
      if (got instanceof Promise) void got.then(run);
      else run(got);
    }
    return {
      ended,
      abort: (before, end) => {
        if (over) return;
        for (const e of before) onEvent(e);
        finish(end, false);
      },
      send: (m) => {
        if (!over) w?.worker.postMessage(m);
      },
    };
  }

  /**
   * Serves one /svc request in a fresh worker; its events (head, body..., end) go to `onEvent`.
   * `signal` aborts it (the client went away): the worker is terminated at once.
   */
  serve(
    job: ServeJob,
    onEvent: (e: JobEvent<'serve'>) => void,
    signal?: AbortSignal,
    control?: JobControl,
  ): Promise<ServeSummary> {
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
      const result = { status, stderrTail: '', error: text.trim(), ...(headSent ? { aborted: true } : {}) };
      return [head, { kind: 'end', id, job: 'serve', result }];
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
    // The program is metered and stops itself at its deadline (run-worker.ts), answering 504 with a
    // whole response; the worker is terminated only if it has not ended a moment later. At the same
    // instant, the two raced: the worker's 504 head went out, the termination then cut its body.
    const timer = setTimeout(
      () =>
        running.abort(
          ...failWith(
            504,
            `service ${job.service} did not finish within ${job.timeoutMs} ms; its worker was stopped\n`,
          ),
        ),
      job.timeoutMs + SELF_STOP_GRACE_MS,
    );
    if (control) control.send = (m) => running.send(m);
    const gone = () => running.abort(...failWith(499, 'the client went away; the run was stopped\n'));
    signal?.addEventListener('abort', gone, { once: true });
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

  /** Gets an image's entrypoint ready (a component transpiled and kept for the SW). */
  async prepare(job: PrepareJob): Promise<PrepareResult> {
    const crash = (message: string): EndEvent<'prepare'> => ({
      kind: 'end',
      id: job.id,
      job: 'prepare',
      result: { component: false, error: message },
    });
    return (await this.start<'prepare'>(job, () => {}, crash).ended).result;
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
      true, // a terminal session may last: it gets a worker of its own, not one of the pool's
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
