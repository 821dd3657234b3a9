// Messages between the Service Worker, the app page that hosts the worker pool, and a run worker.
// SW -> page: RunRequestMessage with a MessagePort; page -> SW over that port: RunAccepted at once,
// then RunDone. Page -> worker: WorkerJob; worker -> page: WorkerResult.
import type { HttpRequestData, HttpResponseData } from './raw-http.ts';
import type { RunImageResult } from './run-image.ts';

export interface RunJob {
  id: string;
  service: string;
  request: HttpRequestData;
}

export interface RunRequestMessage {
  type: 'berth:run';
  job: RunJob;
}

export type RunReply = { type: 'berth:accepted'; id: string } | { type: 'berth:done'; id: string; response: HttpResponseData };

/** Run an image's entrypoint once (the page's Run button). */
export interface ImageRunJob {
  id: string;
  image: string;
  args?: string[];
  stdin?: Uint8Array;
}

export interface WorkerJob {
  job: RunJob | ImageRunJob;
  /** Modules the page already compiled, by ModuleCache key. */
  modules: [string, WebAssembly.Module][];
}

export interface WorkerResult {
  /** For a RunJob. */
  response?: HttpResponseData;
  /** For an ImageRunJob. */
  run?: RunImageResult;
  /** Modules the worker compiled, for the page to keep. */
  compiled: [string, WebAssembly.Module][];
}

export function isRunRequest(data: unknown): data is RunRequestMessage {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'berth:run';
}
