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
