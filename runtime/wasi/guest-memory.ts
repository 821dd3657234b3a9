// Access to the guest's linear memory. Views are rebuilt when growth detached the old buffer (its
// views read as length 0) or, for shared memory that grows in place, when a pointer falls past the
// cached view; `memory.buffer` is not read on every access (its getter shows on hot syscalls).
// Out-of-range pointers -> FAULT. A memory cap is checked where a grown buffer is picked up: memory
// grows without asking the host, and the next syscall is where the host gets to look.
import { RuntimeError } from '../core/index.ts';
import { Errno } from './errno.ts';
import { WasiError } from './wasi-error.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

const EMPTY_DV = new DataView(new ArrayBuffer(0));
const EMPTY_U8 = new Uint8Array(0);

export class GuestMemory {
  private memory: WebAssembly.Memory | undefined;
  private buffer: ArrayBufferLike | undefined;
  private dv = EMPTY_DV;
  private u8 = EMPTY_U8;

  /**
   * `maxBytes`: past it, the next syscall traps with resource-exhausted. `work` is told the bytes
   * of every access before it is made (a hostWork meter: it may throw the deadline).
   */
  constructor(
    private readonly maxBytes = Infinity,
    private readonly work?: (bytes: number) => void,
  ) {}

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.buffer = undefined;
    this.reload();
  }

  private refresh(): void {
    if (this.u8.length === 0) this.reload();
  }

  private reload(): void {
    if (!this.memory) throw new Error('WASI: the instance has no memory bound yet (call start or initialize)');
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      if (b.byteLength > this.maxBytes) {
        throw new RuntimeError(
          'resource-exhausted',
          `the program's memory grew to ${b.byteLength} bytes, past its limit of ${this.maxBytes}`,
        );
      }
      this.buffer = b;
      this.dv = new DataView(b);
      this.u8 = new Uint8Array(b);
    }
  }

  private check(ptr: number, len: number): void {
    this.work?.(len);
    if (ptr + len > this.u8.length) {
      this.reload(); // shared memory may have grown in place
      if (ptr + len > this.u8.length) throw new WasiError(Errno.FAULT, 'pointer outside linear memory');
    }
  }

  /** A live view of guest bytes [ptr, ptr+len). Valid only until the guest runs again. */
  bytes(ptr: number, len: number): Uint8Array {
    this.refresh();
    this.check(ptr, len);
    return this.u8.subarray(ptr, ptr + len);
  }
  isShared(): boolean {
    this.refresh();
    return typeof SharedArrayBuffer !== 'undefined' && this.buffer instanceof SharedArrayBuffer;
  }
  u32(ptr: number): number {
    this.refresh();
    this.check(ptr, 4);
    return this.dv.getUint32(ptr, true);
  }
  u16(ptr: number): number {
    this.refresh();
    this.check(ptr, 2);
    return this.dv.getUint16(ptr, true);
  }
  u8At(ptr: number): number {
    this.refresh();
    this.check(ptr, 1);
    return this.u8[ptr]!;
  }
  u64(ptr: number): bigint {
    this.refresh();
    this.check(ptr, 8);
    return this.dv.getBigUint64(ptr, true);
  }
  setU8(ptr: number, v: number): void {
    this.refresh();
    this.check(ptr, 1);
    this.u8[ptr] = v;
  }
  setU16(ptr: number, v: number): void {
    this.refresh();
    this.check(ptr, 2);
    this.dv.setUint16(ptr, v, true);
  }
  setU32(ptr: number, v: number): void {
    this.refresh();
    this.check(ptr, 4);
    this.dv.setUint32(ptr, v, true);
  }
  setU64(ptr: number, v: bigint): void {
    this.refresh();
    this.check(ptr, 8);
    this.dv.setBigUint64(ptr, BigInt.asUintN(64, v), true);
  }
  /** A path argument: NUL -> INVAL, invalid UTF-8 -> ILSEQ. */
  path(ptr: number, len: number): string {
    const b = this.bytes(ptr, len);
    // Short ASCII paths, nearly all of them, without a TextDecoder call.
    if (len <= 64) {
      let s = '';
      let i = 0;
      for (; i < len; i++) {
        const c = b[i]!;
        if (c === 0 || c > 0x7f) break;
        s += String.fromCharCode(c);
      }
      if (i === len) return s;
    }
    if (b.includes(0)) throw new WasiError(Errno.INVAL, 'NUL byte in a path');
    try {
      return utf8.decode(b);
    } catch {
      throw new WasiError(Errno.ILSEQ, 'a path is not valid UTF-8');
    }
  }
  /** For traces: never throws. */
  lenientString(ptr: number, len: number): string {
    try {
      return utf8Lenient.decode(this.bytes(ptr, len));
    } catch {
      return '?';
    }
  }
  /**
   * A copy of the bytes of an iovec array, concatenated (for stream writes): at most `max` bytes,
   * a short write (iovecs that all point at the same bytes made 2 GiB out of 15 MiB of memory).
   */
  gather(ptr: number, count: number, max = GATHER_MAX): Uint8Array {
    this.refresh();
    checkIovCount(count);
    this.check(ptr, count * 8);
    const dv = this.dv;
    if (count === 1) {
      const buf = dv.getUint32(ptr, true);
      const len = dv.getUint32(ptr + 4, true);
      this.check(buf, len);
      return this.u8.slice(buf, buf + Math.min(len, max));
    }
    let total = 0;
    for (let i = 0; i < count; i++) {
      const buf = dv.getUint32(ptr + i * 8, true);
      const len = dv.getUint32(ptr + i * 8 + 4, true);
      this.check(buf, len);
      total += len;
    }
    const out = new Uint8Array(Math.min(total, max));
    for (let i = 0, off = 0; i < count && off < out.length; i++) {
      const buf = dv.getUint32(ptr + i * 8, true);
      const len = Math.min(dv.getUint32(ptr + i * 8 + 4, true), out.length - off);
      out.set(this.u8.subarray(buf, buf + len), off);
      off += len;
    }
    return out;
  }
  /** The total length of an iovec array. */
  iovecsLength(ptr: number, count: number): number {
    this.refresh();
    checkIovCount(count);
    this.check(ptr, count * 8);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const len = this.dv.getUint32(ptr + i * 8 + 4, true);
      this.check(this.dv.getUint32(ptr + i * 8, true), len);
      total += len;
    }
    return total;
  }
  /** The buffers of an iovec/ciovec array (8 bytes each: u32 buf, u32 len). */
  iovecs(ptr: number, count: number): Uint8Array[] {
    this.refresh();
    checkIovCount(count);
    this.check(ptr, count * 8);
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const buf = this.dv.getUint32(ptr + i * 8, true);
      const len = this.dv.getUint32(ptr + i * 8 + 4, true);
      this.check(buf, len);
      out.push(this.u8.subarray(buf, buf + len));
    }
    return out;
  }
}

/**
 * Iovecs one call may pass: Linux's IOV_MAX (more is EINVAL there too). Each becomes a view
 * object here: 30 million zero-length ones in one fd_write took 3.5 GB and 14 s.
 */
export const IOV_MAX = 1024;
/** Bytes one stream write gathers at most; the rest is a short write, as a pipe may make. */
export const GATHER_MAX = 16 * 2 ** 20;

function checkIovCount(count: number): void {
  if (count > IOV_MAX) throw new WasiError(Errno.INVAL, `${count} iovecs in one call (at most ${IOV_MAX})`);
}
