// A syscall failure with its preview1 errno; the import wrapper turns it into the return value.
import type { Errno } from './errno.ts';

export class WasiError extends Error {
  override name = 'WasiError';
  constructor(
    readonly errno: Errno,
    message?: string,
  ) {
    super(message ?? `WASI errno ${errno}`);
  }
}
