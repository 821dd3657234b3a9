/// <reference lib="webworker" />
// An unpack worker: inflates one gzip layer as it downloads, building its seek index, hashing its
// tar against the diff_id and indexing it, so the page's thread is free while a pull's layers unpack
// side by side. The page posts the compressed chunks as they arrive (copies: the same chunks go to
// the content store) and the worker acknowledges each once inflated, which is the page's credit;
// one layer per worker, terminated when it answers (see unpack-offload.ts).
import { RuntimeError, webCodecs } from '../runtime/core/index.ts';
import { inflateAndIndex } from '../runtime/images/index.ts';
import type { UnpackAnswer, UnpackRequest } from './unpack-offload.ts';

declare const self: DedicatedWorkerGlobalScope;

let input: ReadableStreamDefaultController<Uint8Array> | undefined;
const answer = (a: UnpackAnswer, transfer: Transferable[] = []) => self.postMessage(a, transfer);

self.onmessage = (e: MessageEvent<UnpackRequest>) => {
  const m = e.data;
  if (m.kind === 'start') {
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (input = c) });
    // Each chunk is acknowledged when the inflater has taken it (the page sends more on credit).
    const counted = stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          c.enqueue(chunk);
          answer({ kind: 'ack', bytes: chunk.length });
        },
      }),
    );
    inflateAndIndex(counted, { diffId: m.diffId, maxSize: m.maxSize, sha256: webCodecs.sha256 }).then(
      (r) => answer({ kind: 'done', index: r.index, seek: r.seek }, [r.seek.buffer]),
      (err: unknown) =>
        answer({
          kind: 'error',
          code: err instanceof RuntimeError ? err.code : 'internal',
          message: (err as Error)?.message ?? String(err),
        }),
    );
  } else if (m.kind === 'chunk') input?.enqueue(m.bytes);
  else if (m.kind === 'end') input?.close();
  else input?.error(new RuntimeError('cancelled', m.reason));
};
