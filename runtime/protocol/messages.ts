// Messages between the Service Worker, the app page that hosts the worker pool, and a run worker.
// SW -> page: RunRequestMessage with a MessagePort. Page -> SW over that port: `accepted` at once,
// then the response as it is produced: one `head`, any number of `body` chunks, one `end`.
// Page -> worker: WorkerJob; worker -> page: the same head/body/end events (WorkerEvent).
import type { HttpRequestData } from '../serve/raw-http.ts';
import type { ResponseHead } from '../serve/response-parser.ts';
import type { RunImageResult } from '../run/run-image.ts';
import type { PreparedRequest, ServeSummary } from '../serve/serve-request.ts';

export interface RunJob {
  id: string;
  service: string;
  request: HttpRequestData;
  /** Wall-clock deadline for the whole request, ms. */
  timeoutMs: number;
  /** The service and image records the SW already loaded. */
  prepared?: PreparedRequest;
}

/** Run an image's entrypoint once (the page's Run button). */
export interface ImageRunJob {
  id: string;
  image: string;
  args?: string[];
  stdin?: Uint8Array;
}

/**
 * Run an image interactively (the page's terminal): stdin is pulled live from the SW's stdin route
 * (see stdin-channel.ts), stdout and stderr are posted as `output` events as the program writes.
 */
export interface InteractiveRunJob {
  id: string;
  interactive: true;
  image: string;
  /** The whole argv (entrypoint override); absent runs the image's Entrypoint + Cmd. */
  command?: string[];
  /** Absolute URL of this run's stdin route. */
  stdinUrl: string;
}

export interface RunRequestMessage {
  type: 'berth:run';
  job: RunJob;
}

export type RunReply =
  | { type: 'berth:accepted'; id: string }
  | { type: 'berth:head'; id: string; head: ResponseHead }
  | { type: 'berth:body'; id: string; chunk: Uint8Array }
  | { type: 'berth:end'; id: string; summary: ServeSummary };

export interface WorkerJob {
  job: RunJob | ImageRunJob | InteractiveRunJob;
  /** Modules the page already compiled, by ModuleCache key. */
  modules: [string, WebAssembly.Module][];
}

export type WorkerEvent =
  | { kind: 'head'; head: ResponseHead }
  | { kind: 'body'; chunk: Uint8Array }
  | {
      kind: 'end';
      /** For a RunJob. */
      summary?: ServeSummary;
      /** For an ImageRunJob. */
      run?: RunImageResult;
      /** Modules the worker compiled, for the page to keep. */
      compiled: [string, WebAssembly.Module][];
    };

/** Worker -> page, besides WorkerEvent, for an InteractiveRunJob: output on fd 1 or 2, as written. */
export interface OutputEvent {
  kind: 'output';
  fd: 1 | 2;
  chunk: Uint8Array;
}

export function isRunRequest(data: unknown): data is RunRequestMessage {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'berth:run';
}
