// A program stopped at its wall-clock deadline: noted by the metering tick of an instrumented module
// (runtime/wasm, whose check then traps) and thrown by the broker's sleeps and blocking reads
// (runtime/wasi, the WASI 0.2 host), caught by the run.
import { RuntimeError } from './errors.ts';

/** Thrown by a host wait once the deadline has passed (a metered module's check traps instead: see runtime/wasm). */
export class DeadlineExceeded extends RuntimeError {
  override name = 'DeadlineExceeded';
  constructor(
    readonly deadlineMs: number,
    readonly nowMs: number,
  ) {
    super(
      'deadline-exceeded',
      `The wasm program ran past its deadline (${(nowMs - deadlineMs).toFixed(1)} ms late) and was stopped`,
    );
  }
}

/**
 * Told the DeadlineExceeded a host wait throws into a guest, before it is thrown: the guest may
 * catch it (catch_all) and then return or exit as if on time, so the run must learn of it here and
 * end as stopped at its deadline whatever the guest does next.
 */
export type NoteDeadline = (e: DeadlineExceeded) => void;

/**
 * The DeadlineExceeded a wait ending at `deadlineMs` throws, told to `note` first. `now` is the
 * time on the deadline's clock (performance.now() unless the deadline is in epoch ms).
 */
export function deadlinePassed(deadlineMs: number, note?: NoteDeadline, now = performance.now()): DeadlineExceeded {
  const e = new DeadlineExceeded(deadlineMs, now);
  note?.(e);
  return e;
}

/**
 * `p`, or a rejection with DeadlineExceeded at `deadlineMs` (performance.now() clock) if that comes
 * first: a wait of the host (a sleep, a slow reader) never outlasts a run's deadline.
 */
export function beforeDeadline<T>(p: Promise<T>, deadlineMs: number | undefined, note?: NoteDeadline): Promise<T> {
  if (deadlineMs === undefined) return p;
  // Already past: at once (a timer of 0 ms would race p's own, and lose to one set before it).
  if (performance.now() >= deadlineMs) {
    p.catch(() => {}); // no one waits for it now
    return Promise.reject(deadlinePassed(deadlineMs, note));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlinePassed(deadlineMs, note)), Math.max(0, deadlineMs - performance.now()));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Bytes of host work between two looks at the clock (see hostWork). */
export const WORK_SLICE = 1 << 20;

/**
 * A meter of the work host calls do for a guest, in bytes moved: past each WORK_SLICE bytes it
 * looks at the clock, and past `deadlineMs` it throws DeadlineExceeded (told to `note`). A guest
 * pays one charge for a call however much the call does, so without it a loop of large calls
 * (random_get of 8 MiB, a write of a huge iovec array) ran fuel times their work before a tick:
 * minutes past the deadline. Undefined where there is no deadline.
 */
export function hostWork(deadlineMs: number | undefined, note?: NoteDeadline): ((bytes: number) => void) | undefined {
  if (deadlineMs === undefined || deadlineMs === Number.POSITIVE_INFINITY) return undefined;
  let spent = 0;
  return (bytes) => {
    spent += bytes;
    if (spent < WORK_SLICE) return;
    spent = 0;
    if (performance.now() >= deadlineMs) throw deadlinePassed(deadlineMs, note);
  };
}

/**
 * Tells `work` (a hostWork meter, if any) the bytes a file of `file`'s size is zero-filled by to
 * reach `end`: a write past its end or a larger size (a loop growing a file to 256 MiB and back ran
 * 24 minutes per fuel).
 */
export function fillWork(
  work: ((bytes: number) => void) | undefined,
  file: { stat(): { size: bigint } },
  end: number,
): void {
  if (!work) return;
  const size = Number(file.stat().size);
  if (end > size) work(end - size);
}
