// Node's StreamCodecs (Node-only, like fs-content-store.ts, which hands them out): node:crypto's
// incremental SHA-256 and node:zlib's gunzip and gzip, which run on libuv's thread pool while the
// main thread hashes and indexes. Gzip compresses 1 MiB blocks on every core at once, as pigz does
// (each block primed with the 32 KiB before it, so the output is one ordinary gzip stream of about
// gzip's size, and the same bytes whatever the number of cores). Measured in bench/.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import { constants, crc32, createGunzip, deflateRaw, type ZlibOptions } from 'node:zlib';
import { RuntimeError, type StreamCodecs } from '../core/index.ts';

/** Output chunks of gunzip (zlib's default, 16 KiB, costs more per byte in the stream hops after it). */
const CHUNK = 64 << 10;
/** Output chunks of gunzip that may wait for their reader (zlib stops inflating past them). */
const READ_AHEAD_CHUNKS = 4;
/** Uncompressed bytes per parallel gzip block. */
const GZIP_BLOCK = 1 << 20;
/** Deflate's window: what each block is primed with. */
const WINDOW = 32 << 10;

export const nodeCodecs: StreamCodecs = {
  sha256() {
    const h = createHash('sha256');
    return {
      update: (chunk) => void h.update(chunk),
      digest: async () => `sha256:${h.digest('hex')}`,
    };
  },
  gunzip: (input) => throughZlib(input, createGunzip({ chunkSize: CHUNK }), 'gzip'),
  gzip: parallelGzip,
};

/**
 * `input` through a zlib transform, as a web stream. Input is written only while zlib's writable
 * side has room, and zlib's output flows (no copies) into the web stream's queue until a few chunks
 * wait there, then pauses: zlib stops inflating while its readable side is full, so a bomb expands
 * by a few chunks before a downstream cap cancels the stream. Errors of the input pass through;
 * zlib's own become RuntimeError 'data-loss'.
 */
function throughZlib(input: ReadableStream<Uint8Array>, z: Transform, format: string): ReadableStream<Uint8Array> {
  const reader = input.getReader();
  let inputError: { e: unknown } | undefined;
  let feeding = false;
  const feed = async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (z.destroyed) return;
        if (!z.write(value)) await drained(z);
      }
      z.end();
    } catch (e) {
      inputError = { e };
      z.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const asDataLoss = (e: unknown) =>
    inputError
      ? inputError.e
      : e instanceof RuntimeError
        ? e
        : new RuntimeError('data-loss', `the ${format} stream is corrupt or truncated: ${(e as Error)?.message ?? e}`, {
            cause: e,
          });
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        z.pause();
        z.on('data', (chunk: Buffer) => {
          try {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          } catch {
            z.destroy(); // the stream was cancelled or errored meanwhile
            return;
          }
          if ((controller.desiredSize ?? 0) <= 0) z.pause();
        });
        z.on('end', () => (inputError ? controller.error(inputError.e) : controller.close()));
        z.on('error', (e) => {
          controller.error(asDataLoss(e));
          void reader.cancel(e).catch(() => {});
        });
      },
      pull() {
        if (!feeding) {
          feeding = true;
          void feed();
        }
        z.resume();
      },
      async cancel(reason) {
        z.destroy();
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: READ_AHEAD_CHUNKS },
  );
}

/** Resolves when `z` drains or closes (destroyed: the feeder then stops). */
function drained(z: Transform): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      z.off('drain', done);
      z.off('close', done);
      resolve();
    };
    z.on('drain', done);
    z.on('close', done);
  });
}

function deflateBlock(block: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => deflateRaw(block, options, (e, out) => (e ? reject(e) : resolve(out))));
}

/**
 * Gzip of `input` at `level`: fixed 1 MiB blocks deflated on the thread pool, several at once, each
 * with the previous block's last 32 KiB as its dictionary and ended by a sync flush (byte aligned,
 * not final), then an empty final block, gzip's header (mtime 0, OS 255) and trailer (CRC-32, size).
 */
function parallelGzip(input: ReadableStream<Uint8Array>, level: number): ReadableStream<Uint8Array> {
  const reader = input.getReader();
  const width = Math.max(2, availableParallelism());
  const inFlight: Promise<Buffer>[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let inputDone = false;
  let previous: Buffer | undefined;
  let crc = 0;
  let size = 0;
  let started = false;

  /** The next block of exactly GZIP_BLOCK bytes (fewer only at the end), or undefined at the end. */
  const nextBlock = async (): Promise<Buffer | undefined> => {
    while (pendingBytes < GZIP_BLOCK && !inputDone) {
      const { value, done } = await reader.read();
      if (done) inputDone = true;
      else if (value.length) {
        pending.push(value);
        pendingBytes += value.length;
      }
    }
    if (pendingBytes === 0) return undefined;
    const all = Buffer.concat(pending, pendingBytes);
    const block = all.subarray(0, Math.min(GZIP_BLOCK, all.length));
    const rest = all.subarray(block.length);
    pending = rest.length ? [rest] : [];
    pendingBytes = rest.length;
    return block;
  };
  const launch = (block: Buffer) => {
    crc = crc32(block, crc);
    size += block.length;
    const dictionary = previous;
    previous = block.subarray(Math.max(0, block.length - WINDOW));
    const p = deflateBlock(block, { level, dictionary, finishFlush: constants.Z_SYNC_FLUSH });
    p.catch(() => {}); // awaited in order below
    inFlight.push(p);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!started) {
            started = true;
            const xfl = level === 9 ? 2 : level <= 1 ? 4 : 0;
            controller.enqueue(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]));
            return;
          }
          while (inFlight.length < width && !inputDone) {
            const block = await nextBlock();
            if (block) launch(block);
          }
          const next = inFlight.shift();
          if (next) {
            const out = await next;
            controller.enqueue(new Uint8Array(out.buffer, out.byteOffset, out.length));
            return;
          }
          // An empty final block, then CRC-32 and size (mod 2^32), little-endian.
          const trailer = new Uint8Array(10);
          trailer.set([0x03, 0x00]);
          const view = new DataView(trailer.buffer);
          view.setUint32(2, crc >>> 0, true);
          view.setUint32(6, size % 2 ** 32, true);
          controller.enqueue(trailer);
          controller.close();
        } catch (e) {
          await reader.cancel(e).catch(() => {});
          throw e;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
