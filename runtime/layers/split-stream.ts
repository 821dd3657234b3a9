// One byte stream read by several consumers at once (a download hashed into the store and gunzipped
// into the indexer, a tar hashed into the store and indexed). Unlike ReadableStream.tee, which
// queues without bound for the slower branch, the branches advance together: the source is read
// only when every open branch has asked for the next chunk, so the slowest consumer paces the
// source and memory stays at one chunk per branch whatever the stream's size.

export interface SplitOptions {
  /** Sees each chunk before the branches do; if it throws, every open branch errors with that and the source is cancelled (a size cap). */
  inspect?: (chunk: Uint8Array) => void;
  /** Aborting it errors every open branch with its reason and cancels the source. */
  signal?: AbortSignal;
}

export interface Split {
  branches: ReadableStream<Uint8Array>[];
  /**
   * Takes branch `i` out, as if its reader cancelled it (for a branch whose reader is done with it
   * but may not have read to the end): the others go on without it. Its reader, if still reading, errors.
   */
  drop(i: number, reason?: unknown): void;
}

/**
 * `n` branches of `source`. A cancelled (or dropped) branch drops out and the others go on; when
 * all have, the source is cancelled.
 */
export function splitStream(source: ReadableStream<Uint8Array>, n: number, options: SplitOptions = {}): Split {
  const { inspect, signal } = options;
  const reader = source.getReader();
  const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  const open = new Set<number>();
  const wanting = new Map<number, () => void>();
  let reading = false;
  let finished = false;

  const release = () => {
    const waiters = [...wanting.values()];
    wanting.clear();
    for (const w of waiters) w();
  };
  const step = async () => {
    if (reading || finished || open.size === 0 || wanting.size < open.size) return;
    reading = true;
    try {
      const { value, done } = await reader.read();
      if (finished) {
        // failed (or every branch left) while reading
      } else if (done) {
        finished = true;
        for (const i of open) controllers[i].close();
      } else {
        inspect?.(value);
        for (const i of open) controllers[i].enqueue(value);
      }
    } catch (e) {
      reading = false;
      fail(e);
      return;
    }
    reading = false;
    release();
  };

  const fail = (e: unknown) => {
    if (finished) return;
    finished = true;
    for (const i of open) controllers[i].error(e);
    release();
    void reader.cancel(e).catch(() => {});
  };
  const leave = async (i: number, reason: unknown) => {
    if (!open.delete(i)) return;
    wanting.get(i)?.();
    wanting.delete(i);
    if (open.size === 0 && !finished) {
      finished = true;
      release();
      await reader.cancel(reason).catch(() => {});
    } else void step();
  };
  if (signal?.aborted) queueMicrotask(() => fail(signal.reason));
  else signal?.addEventListener('abort', () => fail(signal.reason), { once: true });

  const branches = Array.from(
    { length: n },
    (_, i) =>
      new ReadableStream<Uint8Array>(
        {
          start(controller) {
            controllers[i] = controller;
            open.add(i);
          },
          pull() {
            if (finished) return;
            return new Promise<void>((resolve) => {
              wanting.set(i, resolve);
              void step();
            });
          },
          cancel: (reason) => leave(i, reason),
        },
        { highWaterMark: 0 },
      ),
  );
  return {
    branches,
    drop(i, reason = new Error('dropped')) {
      if (!open.has(i)) return;
      try {
        controllers[i].error(reason);
      } catch {
        // already closed or errored
      }
      void leave(i, reason);
    },
  };
}

/** A stream of `bytes` in chunks of at most `chunk` bytes (views, no copies). */
export function streamOfBytes(bytes: Uint8Array | readonly Uint8Array[], chunk = 1 << 20): ReadableStream<Uint8Array> {
  const parts = bytes instanceof Uint8Array ? [bytes] : bytes;
  let p = 0;
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        while (p < parts.length && at >= parts[p].length) {
          p++;
          at = 0;
        }
        if (p >= parts.length) {
          controller.close();
          return;
        }
        const part = parts[p];
        const end = Math.min(part.length, at + chunk);
        controller.enqueue(part.subarray(at, end));
        at = end;
      },
    },
    { highWaterMark: 0 },
  );
}
