// Zstandard decompression as a pull-driven stream through fzstd's streaming Decompress (pure JS,
// no wasm, works in page, worker, SW and Node). fzstd hands out one block (<= 128 KiB) at a time
// synchronously from push(), so input is pushed in small slices and only while the reader wants
// output: one slice can expand to at most SLICE / 4 RLE blocks, which bounds the memory a bomb
// can take before the size cap downstream stops it. Errors become RuntimeError 'data-loss'.
import { Decompress } from 'fzstd';
import { RuntimeError } from '../core/index.ts';

const SLICE = 1024;

export function unzstdStream(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const input = stream.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let ended = false;
  let finished = false;
  let produced: Uint8Array[] = [];
  const z = new Decompress((data, final) => {
    if (data.length) produced.push(data);
    if (final) finished = true;
  });
  const asDataLoss = (e: unknown) =>
    e instanceof RuntimeError
      ? e
      : new RuntimeError('data-loss', `the zstd stream is corrupt or truncated: ${(e as Error)?.message ?? e}`, {
          cause: e,
        });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            if (produced.length) {
              for (const c of produced) controller.enqueue(c);
              produced = [];
              return;
            }
            if (finished && pending.length === 0 && ended) {
              controller.close();
              return;
            }
            if (pending.length === 0) {
              if (ended) {
                // End of input: fzstd reports the end (ondata final) only at a frame boundary.
                if (!finished) z.push(new Uint8Array(0), true);
                if (!finished) throw new RuntimeError('data-loss', 'the zstd stream is truncated');
                continue;
              }
              const { value, done } = await input.read();
              if (done) ended = true;
              else pending = value;
              continue;
            }
            const slice = pending.subarray(0, SLICE);
            pending = pending.subarray(slice.length);
            z.push(slice, false);
          }
        } catch (e) {
          await input.cancel().catch(() => {});
          throw asDataLoss(e);
        }
      },
      async cancel(reason) {
        await input.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
