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
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controllerRef = controller;
      inflate = new Inflate();
      inflate.onData = (chunk) => controllerRef.enqueue(chunk);
    },
    transform(chunk) {
      if (inflate.ended) return; // trailing bytes after the gzip member
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
