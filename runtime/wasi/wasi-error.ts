// A syscall failure with its preview1 errno; the import wrapper turns it into the return value.
// Errors are ordinary results here (wasi-libc probes preopens until BADF, stats missing files...),
// so no stack trace is captured: that would cost more than the syscall itself.
import type { Errno } from './errno.ts';

export class WasiError extends Error {
  override name = 'WasiError';
  readonly errno: Errno;
  constructor(errno: Errno, message?: string) {
    // V8's Error.stackTraceLimit (not in every lib's types): 0 skips capturing a stack.
    const E = Error as { stackTraceLimit?: number };
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
    super(message ?? `WASI errno ${errno}`);
    E.stackTraceLimit = limit;
    this.errno = errno;
  }
}
