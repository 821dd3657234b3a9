// A program stopped at its wall-clock deadline: thrown by the metering tick of an instrumented module
// (runtime/wasm) and by the broker's sleeps and blocking reads (runtime/wasi), caught by the run.
import { RuntimeError } from './errors.ts';

/** Thrown once the deadline has passed; stays thrown on every later check (catch_all cannot swallow it for good). */
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
 * `p`, or a rejection with DeadlineExceeded at `deadlineMs` (performance.now() clock) if that comes
 * first: a wait of the host (a sleep, a slow reader) never outlasts a run's deadline.
 */
export function beforeDeadline<T>(p: Promise<T>, deadlineMs: number | undefined): Promise<T> {
  if (deadlineMs === undefined) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineExceeded(deadlineMs, performance.now())),
      Math.max(0, deadlineMs - performance.now()),
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
