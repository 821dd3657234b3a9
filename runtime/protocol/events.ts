// The events that answer a job, tagged by `kind`. A run worker posts them to its page, which relays
// them unchanged to whoever asked (its own views, or the SW over the job's MessagePort):
//   serve:        head, body..., end
//   run-image:    end (with the collected output)
//   interactive:  output..., end
// Besides them a worker posts `compiled` (modules for the page's cache), which is never relayed.
import type { ResponseHead } from '../serve/response-parser.ts';
import type { JobKind, JobResults } from './jobs.ts';

export interface HeadEvent {
  kind: 'head';
  id: string;
  head: ResponseHead;
}

export interface BodyEvent {
  kind: 'body';
  id: string;
  chunk: Uint8Array;
}

export interface OutputEvent {
  kind: 'output';
  id: string;
  fd: 1 | 2;
  chunk: Uint8Array;
}

/** The last event of a job, with the result typed by the job's kind. */
export type EndEvent<K extends JobKind = JobKind> = {
  [k in K]: { kind: 'end'; id: string; job: k; result: JobResults[k] };
}[K];

/** The events each kind of job produces. */
export interface JobEventsOf {
  serve: HeadEvent | BodyEvent | EndEvent<'serve'>;
  'run-image': EndEvent<'run-image'>;
  interactive: OutputEvent | EndEvent<'interactive'>;
  prepare: EndEvent<'prepare'>;
}
export type JobEvent<K extends JobKind = JobKind> = JobEventsOf[K];
