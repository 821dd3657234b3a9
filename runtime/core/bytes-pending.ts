// Thrown by a ByteSource whose bytes are not in memory yet, where reads must stay synchronous but
// the bytes can only be had asynchronously (IndexedDB Blobs in a Service Worker). Whoever can wait
// awaits `load()` and retries the read: runtime/run/run-program.ts does so inside the WASI calls
// that read files, suspending the program with JSPI; the host's own reads do so in plain JS.
export class BytesPending extends Error {
  override name = 'BytesPending';
  constructor(readonly load: () => Promise<void>) {
    super('the bytes asked for are being read');
  }
}

/**
 * Thrown by the WASI broker's pure sleeps (poll_oneoff on clocks alone) when the host can suspend
 * the program instead of blocking its thread: the host waits `ns`, grants that much sleep back to the
 * broker, and retries the call, which then returns without sleeping again.
 */
export class SleepPending extends Error {
  override name = 'SleepPending';
  constructor(readonly ns: bigint) {
    super('the program sleeps');
  }
}

/** Runs `read` until it no longer throws BytesPending, loading what each attempt asked for. */
export async function retryPending<T>(
  read: () => T,
  bound: (load: Promise<void>) => Promise<void> = (l) => l,
): Promise<T> {
  for (;;) {
    try {
      return read();
    } catch (e) {
      if (!(e instanceof BytesPending)) throw e;
      await bound(e.load());
    }
  }
}
