// Process stdio for a WASI run in Node (`berth run` and `berth exec`): stdin as a synchronous pull
// source over fd 0 (WASI reads are synchronous), stdout/stderr written through chunk by chunk while
// the program runs.
import { readSync, writeSync } from 'node:fs';
import { Errno, WasiError } from '../runtime/wasi/index.ts';

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A pull source over a host fd: bytes, null at end of input, empty when it has nothing yet. */
export function stdinPullSource(fd = 0): (max: number) => Uint8Array | null {
  let buf = new Uint8Array(65536);
  let eof = false;
  return (max) => {
    if (eof) return null;
    const want = Math.max(1, Math.min(max, 1 << 20));
    if (buf.length < want) buf = new Uint8Array(want);
    let n: number;
    try {
      n = readSync(fd, buf, 0, want, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // EAGAIN (a non-blocking stdin) answers "nothing yet": the broker backs off, and poll_oneoff still returns.
      if (code === 'EAGAIN') return new Uint8Array(0);
      if (code !== 'EOF') throw e; // EOF: Windows pipes
      n = 0;
    }
    if (n === 0) eof = true;
    return n === 0 ? null : buf.slice(0, n);
  };
}

/** A sink writing all of each chunk to a host fd. */
export function fdWriter(fd: number): (chunk: Uint8Array) => void {
  return (chunk) => {
    let off = 0;
    while (off < chunk.length) {
      try {
        off += writeSync(fd, chunk, off, chunk.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // The reader went away: EPIPE (Node ignores SIGPIPE), or ECONNRESET when fd is a socket (Node's
        // child_process pipes are) closed with data unread. Fails the guest's fd_write with EPIPE, as a Unix write would.
        if (code === 'EPIPE' || code === 'ECONNRESET')
          throw new WasiError(Errno.PIPE, `fd ${fd}: the reader went away`);
        if (code !== 'EAGAIN') throw e;
        pause(1); // a non-blocking pipe that is full: wait for the reader
      }
    }
  };
}
