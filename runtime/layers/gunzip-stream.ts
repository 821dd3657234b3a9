// Gzip decompression as a stream through pako's streaming Inflate, for runtimes without
// DecompressionStream. A corrupt or cut stream errors with RuntimeError 'data-loss'.
import { Inflate } from 'pako';
import { RuntimeError } from '../core/index.ts';

export function gunzipWithPako(): TransformStream<Uint8Array, Uint8Array> {
  let inflate: Inflate;
  let controllerRef: TransformStreamDefaultController<Uint8Array>;
  const check = () => {
    if (inflate.err) throw new RuntimeError('data-loss', `the gzip stream is corrupt: ${inflate.msg || inflate.err}`);
  };
  const begin = () => {
    inflate = new Inflate();
    inflate.onData = (chunk) => controllerRef.enqueue(chunk);
  };
  // Set once bytes after a member do not start another: they are ignored, as zlib and gzip do.
  let trailing = false;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controllerRef = controller;
      begin();
    },
    transform(chunk) {
      if (trailing || chunk.length === 0) return;
      if (inflate.ended) {
        // pako reads on into the next member only within one push: a member that ends exactly at
        // a chunk's end ended the stream, and the members after it were dropped (found by the
        // compression properties). Another member starts with the gzip magic.
        if (chunk[0] !== 0x1f) {
          trailing = true;
          return;
        }
        begin();
      }
      inflate.push(chunk, false);
      check();
    },
    flush() {
      if (!inflate.ended) {
        inflate.push(new Uint8Array(0), true);
        check();
      }
      if (!inflate.ended) throw new RuntimeError('data-loss', 'the gzip stream is truncated');
    },
  });
}
