// Process stdio for a WASI run in Node: stdin as a synchronous pull source over fd 0 (WASI reads
// are synchronous), stdout/stderr written through chunk by chunk while the program runs.
import { readSync, writeSync } from 'node:fs';

export function stdinPullSource(fd = 0): (max: number) => Uint8Array | null {
  let eof = false;
  return (max) => {
    if (eof) return null;
    const buf = new Uint8Array(Math.max(1, Math.min(max, 1 << 16)));
    for (;;) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) {
          eof = true;
          return null;
        }
        return buf.subarray(0, n);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A non-blocking stdin (a TTY or pipe set O_NONBLOCK by someone else): wait and retry.
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if (code === 'EOF') {
          eof = true;
          return null;
        }
        throw e;
      }
    }
  };
}

export function fdWriter(fd: number): (chunk: Uint8Array) => void {
  return (chunk) => {
    let off = 0;
    while (off < chunk.length) {
      try {
        off += writeSync(fd, chunk, off, chunk.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          continue;
        }
        throw e;
      }
    }
  };
}
