// Verifying a blob before any backend commits it: its size as the bytes arrive, its SHA-256 (an
// incremental hash of the environment's codecs) once they have all arrived.
import { concatBytes, RuntimeError, sha256, type Digest, type Sha256Hash } from '../core/index.ts';
import type { BlobData, PutOptions } from './content-store.ts';

/**
 * Feeds every chunk of `data` to `hash` and then to `sink` (a backend's write), checking the size as
 * it goes (RuntimeError 'data-loss' as soon as it is longer than `expected.size`) and the size and
 * digest at the end. Returns the size. The caller commits only if this resolves.
 */
export async function streamVerified(
  expected: { digest: Digest; size?: number },
  data: BlobData,
  hash: Sha256Hash,
  sink: (chunk: Uint8Array) => void | Promise<void>,
  options: PutOptions = {},
): Promise<number> {
  const total = expected.size;
  let done = 0;
  const take = async (chunk: Uint8Array) => {
    done += chunk.length;
    if (total !== undefined && done > total) {
      throw new RuntimeError(
        'data-loss',
        `blob ${expected.digest} is longer than the ${total} bytes its descriptor declares`,
      );
    }
    hash.update(chunk);
    await sink(chunk);
  };
  if (data instanceof Uint8Array) {
    await take(data);
  } else {
    const reader = (data instanceof Blob ? (data.stream() as ReadableStream<Uint8Array>) : data).getReader();
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        const { value, done: end } = await reader.read();
        if (end) break;
        if (value.length === 0) continue;
        await take(value);
        options.onProgress?.({ done, total });
      }
    } catch (e) {
      await reader.cancel(e).catch(() => {});
      throw e;
    } finally {
      reader.releaseLock();
    }
  }
  if (total !== undefined && done !== total) {
    throw new RuntimeError('data-loss', `blob ${expected.digest}: got ${done} bytes, expected ${total}`);
  }
  const actual = await hash.digest();
  if (actual !== expected.digest) {
    throw new RuntimeError('data-loss', `blob ${expected.digest}: content hashes to ${actual}; refusing it`);
  }
  return done;
}

/** Reads `data` whole, then checks size and SHA-256 (WebCrypto, over the whole bytes); returns the verified bytes. */
export async function collectVerified(
  expected: { digest: Digest; size?: number },
  data: BlobData,
  options: PutOptions = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let bytes: Uint8Array | undefined;
  const whole: Sha256Hash = {
    update() {},
    digest() {
      bytes = chunks.length === 1 ? chunks[0] : concatBytes(chunks);
      return sha256(bytes);
    },
  };
  await streamVerified(expected, data, whole, (c) => void chunks.push(c), options);
  return bytes!;
}
