// Helpers for layer and tree tests: streams from bytes (cut in odd chunks, to cross block
// boundaries), a ByteSource over a buffer, and an in-memory layer built with writeTar.
import type { ByteSource, LayerIndex } from '../../runtime/vfs/index.ts';
import { indexLayer, writeTar, type TarWriteEntry } from '../../runtime/layers/index.ts';
import { bytesSource } from '../../runtime/host/byte-sources.ts';

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

export async function layerOf(entries: TarWriteEntry[]): Promise<{ index: LayerIndex; source: ByteSource; tar: Uint8Array }> {
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
