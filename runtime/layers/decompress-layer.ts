// Turns a layer blob into its uncompressed tar, by media type (its compression is in core's media-type
// table). Gzip goes through the environment's codecs when they have a gunzip (node:zlib in Node),
// else DecompressionStream where it exists (as fast as pako, native), else pako's streaming Inflate;
// zstd through fzstd (see unzstd-stream.ts).
import { layerCompression, RuntimeError, type StreamCodecs } from '../core/index.ts';
import { gunzipWithPako } from './gunzip-stream.ts';
import { unzstdStream } from './unzstd-stream.ts';

export interface DecompressOptions {
  /** Force pako even where DecompressionStream or the codecs' gunzip exist (tests, benchmarks). */
  usePako?: boolean;
  /** The environment's codecs (a content store's); their gunzip is used when they have one. */
  codecs?: StreamCodecs;
}

export function decompressLayer(
  stream: ReadableStream<Uint8Array>,
  mediaType: string,
  options: DecompressOptions = {},
): ReadableStream<Uint8Array> {
  const compression = layerCompression(mediaType);
  if (compression === 'none') return stream;
  if (compression === 'zstd') return unzstdStream(stream);
  if (compression !== 'gzip') {
    throw new RuntimeError('invalid-argument', `"${mediaType}" is not a tar layer media type berth can read`);
  }
  if (!options.usePako && options.codecs?.gunzip) return options.codecs.gunzip(stream);
  if (options.usePako || typeof DecompressionStream === 'undefined') return stream.pipeThrough(gunzipWithPako());
  return gunzipNative(stream);
}

/**
 * Feeds DecompressionStream one input chunk at a time, only while the reader wants output: Node's
 * implementation buffers all output without backpressure, so a plain pipeThrough would inflate a
 * whole gzip bomb before the reader could stop it. Bounded by one input chunk's expansion.
 * Errors become RuntimeError 'data-loss' (callers branch on codes).
 */
function gunzipNative(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const out = (ds.readable as ReadableStream<Uint8Array>).getReader();
  const input = stream.getReader();
  type Won = { kind: 'out'; r: ReadableStreamReadResult<Uint8Array> } | { kind: 'fed'; eof: boolean };
  let outP: Promise<Won> | undefined;
  let feedP: Promise<Won> | undefined;
  let eof = false;
  const quiet = <T>(p: Promise<T>) => (p.catch(() => {}), p);
  const feed = async (): Promise<Won> => {
    const { value, done } = await input.read();
    if (done) {
      await writer.close();
      return { kind: 'fed', eof: true };
    }
    await writer.write(value as Uint8Array<ArrayBuffer>);
    return { kind: 'fed', eof: false };
  };
  const asDataLoss = (e: unknown) =>
    e instanceof RuntimeError
      ? e
      : new RuntimeError('data-loss', `the gzip stream is corrupt or truncated: ${(e as Error)?.message ?? e}`, {
          cause: e,
        });
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        outP ??= quiet(out.read().then((r) => ({ kind: 'out' as const, r })));
        for (;;) {
          if (!feedP && !eof) feedP = quiet(feed());
          const won = await (feedP ? Promise.race([outP, feedP]) : outP);
          if (won.kind === 'fed') {
            feedP = undefined;
            eof = won.eof;
            continue;
          }
          outP = undefined;
          if (won.r.done) controller.close();
          else controller.enqueue(won.r.value);
          return;
        }
      } catch (e) {
        await input.cancel().catch(() => {});
        throw asDataLoss(e);
      }
    },
    async cancel(reason) {
      await Promise.all([
        input.cancel(reason).catch(() => {}),
        writer.abort(reason).catch(() => {}),
        out.cancel(reason).catch(() => {}),
      ]);
    },
  });
}
