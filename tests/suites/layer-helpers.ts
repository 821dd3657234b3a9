// Helpers for layer and tree tests: streams from bytes (cut in odd chunks, to cross block
// boundaries), a ByteSource over a buffer, and an in-memory layer built with writeTar.
import { indexLayer, writeTar, type TarWriteEntry } from '../../runtime/layers/index.ts';
import { bytesSource } from '../../runtime/run/byte-sources.ts';
import type { ByteSource, LayerIndex } from '../../runtime/core/index.ts';

export function streamOf(bytes: Uint8Array, chunk = 1000): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** A ByteSource over bytes in memory (the host's own). */
export const bufferSource = bytesSource;

export async function layerOf(
  entries: TarWriteEntry[],
): Promise<{ index: LayerIndex; source: ByteSource; tar: Uint8Array }> {
  const tar = writeTar(entries);
  const index = await indexLayer(streamOf(tar, 777));
  return { index, source: bufferSource(tar), tar };
}

export async function rejectsWithCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** `bytes` as one zstd frame of raw (stored) blocks, for tests without a zstd encoder. */
export function zstdRaw(bytes: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // window 8 MiB, no FCS
  for (let at = 0; at < bytes.length || at === 0; at += 65536) {
    const part = bytes.subarray(at, at + 65536);
    const last = at + 65536 >= bytes.length;
    const v = (part.length << 3) | (last ? 1 : 0); // raw block
    parts.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, ...part);
    if (last) break;
  }
  return new Uint8Array(parts);
}
