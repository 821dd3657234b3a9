// Collecting and verifying a blob before any backend commits it.
import { RuntimeError, sha256, type Digest } from '../core/index.ts';
import type { BlobData, PutOptions } from './content-store.ts';

/** Reads `data` whole, then checks size and SHA-256; returns the verified bytes. */
export async function collectVerified(
  expected: { digest: Digest; size?: number },
  data: BlobData,
  options: PutOptions = {},
): Promise<Uint8Array> {
  const bytes = await collect(data, expected.size, options);
  if (expected.size !== undefined && bytes.length !== expected.size) {
    throw new RuntimeError(
      'data-loss',
      `blob ${expected.digest}: got ${bytes.length} bytes, expected ${expected.size}`,
    );
  }
  const actual = await sha256(bytes);
  if (actual !== expected.digest) {
    throw new RuntimeError('data-loss', `blob ${expected.digest}: content hashes to ${actual}; refusing it`);
  }
  return bytes;
}

async function collect(data: BlobData, total: number | undefined, options: PutOptions): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let done = 0;
  const reader = data.getReader();
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const { value, done: end } = await reader.read();
      if (end) break;
      chunks.push(value);
      done += value.length;
      if (total !== undefined && done > total) {
        throw new RuntimeError('data-loss', `blob is longer than the ${total} bytes its descriptor declares`);
      }
      options.onProgress?.({ done, total });
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(done);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
