// The jobs a run worker takes, tagged by `kind`, and what each kind of job ends with. A job is made
// by the SW (serve) or the page (run-image, interactive), posted to a worker of the page's pool, and
// answered with the events of events.ts.
import type { RunImageResult } from '../run/run-image.ts';
import type { HttpRequestData } from '../serve/http-data.ts';
import type { PreparedRequest, ServeSummary } from '../serve/serve-request.ts';

/** Serve one /svc request: the response streams back as `head`, `body`..., `end`. */
export interface ServeJob {
  kind: 'serve';
  id: string;
  service: string;
  request: HttpRequestData;
  /** Wall-clock deadline for the whole request, ms. */
  timeoutMs: number;
  /** The service and image records the SW already loaded. */
  prepared?: PreparedRequest;
}

/** Run an image's entrypoint once with the given stdin (the page's Run button). */
export interface ImageRunJob {
  kind: 'run-image';
  id: string;
  image: string;
  args?: string[];
  stdin?: Uint8Array;
}

/**
 * Run an image interactively (the page's terminal): stdin is pulled live from the SW's stdin route
 * (see run/stdin-channel.ts); stdout and stderr come back as `output` events as the program writes.
 */
export interface InteractiveJob {
  kind: 'interactive';
  id: string;
  image: string;
  /** The whole argv (entrypoint override); absent runs the image's Entrypoint + Cmd. */
  command?: string[];
  /** Absolute URL of this run's stdin route. */
  stdinUrl: string;
}

/**
 * Get an image's entrypoint ready before its first request: a WASI 0.2 component is transpiled and
 * kept (both glue variants), so the Service Worker can serve it with no app window open.
 */
export interface PrepareJob {
  kind: 'prepare';
  id: string;
  image: string;
  entrypoint?: string[];
  /** The memory cap its runs will have (a service's), under which its core modules are kept compiled. */
  maxMemoryBytes?: number;
}

/** What preparing came to: whether the entrypoint is a component (and then it is kept). */
export interface PrepareResult {
  component: boolean;
  error?: string;
}

export type Job = ServeJob | ImageRunJob | InteractiveJob | PrepareJob;
export type JobKind = Job['kind'];
export type JobOf<K extends JobKind> = Extract<Job, { kind: K }>;

/** How an interactive run ended (its output was already sent as `output` events). */
export interface InteractiveExit {
  exitCode: number;
  trap?: string;
}

/** The result an `end` event carries, per kind of job. */
export interface JobResults {
  serve: ServeSummary;
  'run-image': RunImageResult;
  interactive: InteractiveExit;
  prepare: PrepareResult;
}
