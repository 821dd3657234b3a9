// The events that answer a job, tagged by `kind`. A run worker posts them to its page, which relays
// them unchanged to whoever asked (its own views, or the SW over the job's MessagePort):
//   serve:        head, body..., end
//   run-image:    end (with the collected output)
//   interactive:  output..., end
// Besides them a worker posts `compiled` (modules for the page's cache), which is never relayed.
// Events posted close together travel as one `events` batch (each message is a task on the other
// side: a small response's head, body and end used to cost three of them on each hop).
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

/** Several events of one job, in order, in one message. */
export interface EventBatch<K extends JobKind = JobKind> {
  kind: 'events';
  events: JobEvent<K>[];
}

/** The events a message carries: itself, or those of its batch. */
export function eventsOf<K extends JobKind>(m: JobEvent<K> | EventBatch<K>): JobEvent<K>[] {
  return m.kind === 'events' ? (m as EventBatch<K>).events : [m as JobEvent<K>];
}

/** A chunk whose buffer is smaller than this is copied with its message: cheaper than a transfer. */
const TRANSFER_MIN = 64 << 10;

/**
 * The buffers of the events' bytes worth transferring rather than copying (each once: a list may
 * not repeat one). A chunk of a small buffer is copied: in Chromium a transfer cost more than
 * the copy of a few hundred bytes, on the window's main thread that relays every /svc response. A
 * small view of a large buffer is still transferred (a copy would clone the whole buffer).
 */
export function eventBuffers(events: readonly JobEvent[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const e of events)
    if ((e.kind === 'body' || e.kind === 'output') && e.chunk.buffer.byteLength >= TRANSFER_MIN)
      buffers.add(e.chunk.buffer as ArrayBuffer);
  return [...buffers];
}
