// Blocking sleep for poll_oneoff and blocking stdin reads. Atomics.wait where it is allowed (Node,
// workers); elsewhere (page main thread, Service Worker: no SharedArrayBuffer or no waiting) a
// busy-wait on performance.now(). Real time is used even when the guest's clocks are injected, so
// a frozen test clock cannot hang the sleep. A sleep never outlasts the run's deadline: it ends
// there with DeadlineExceeded.
import { deadlinePassed, type NoteDeadline } from '../core/index.ts';

let cell: Int32Array | null | undefined;
let beforeBlocking: (() => void) | undefined;

/**
 * `f` runs before this thread blocks in a sleep: a run worker posts the output it gathered, which
 * would otherwise wait for the sleep (its timers cannot fire while the thread blocks).
 */
export function onBlocking(f: (() => void) | undefined): void {
  beforeBlocking = f;
}

function waitCell(): Int32Array | null {
  if (cell === undefined) {
    cell = null;
    if (typeof SharedArrayBuffer !== 'undefined' && typeof Atomics !== 'undefined') {
      try {
        const c = new Int32Array(new SharedArrayBuffer(4));
        Atomics.wait(c, 0, 0, 0); // throws where the thread may not block
        cell = c;
      } catch {
        cell = null;
      }
    }
  }
  return cell;
}

/** Sleeps `ns`, or until `deadlineMs` (performance.now() clock) and then throws DeadlineExceeded (told to `note`). */
export function sleepNs(ns: bigint, deadlineMs = Number.POSITIVE_INFINITY, note?: NoteDeadline): void {
  if (ns <= 0n) return;
  beforeBlocking?.();
  const ms = Number(ns) / 1e6;
  const wanted = performance.now() + ms;
  const end = Math.min(wanted, deadlineMs);
  sleepUntil(end);
  if (end < wanted) throw deadlinePassed(deadlineMs, note);
}

function sleepUntil(end: number): void {
  const ms = end - performance.now();
  if (ms <= 0) return;
  const c = waitCell();
  if (c) {
    for (let left = ms; left > 0; left = end - performance.now()) Atomics.wait(c, 0, 0, left);
    return;
  }
  while (performance.now() < end) {
    // busy-wait: the only way to block synchronously without SharedArrayBuffer
  }
}
