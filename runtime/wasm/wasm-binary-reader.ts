// Byte-level reading and writing of the wasm binary format: LEB128 integers, names, sections.
// "Malformed" means the bytes are not a wasm module this reader understands; every such failure
// is a RuntimeError('invalid-argument') naming the byte offset.
import { RuntimeError } from '../core/index.ts';

export function malformed(what: string, at: number): RuntimeError {
  return new RuntimeError('invalid-argument', `Cannot read the wasm module: ${what} at byte ${at}`);
}

export class WasmReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    readonly end = bytes.length,
  ) {
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw malformed('unexpected end', this.pos);
    return this.bytes[this.pos++];
  }

  peek(): number {
    if (this.pos >= this.end) throw malformed('unexpected end', this.pos);
    return this.bytes[this.pos];
  }

  /** The next u32 without consuming it. */
  peekU32(): number {
    const at = this.pos;
    const v = this.u32();
    this.pos = at;
    return v;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    const at = this.pos;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
    throw malformed('LEB128 u32 too long', at);
  }

  /** Skips any LEB128 integer of at most `maxBytes` bytes (s32: 5, s33: 5, s64/u64: 10). */
  skipLeb(maxBytes: number): void {
    const at = this.pos;
    for (let i = 0; i < maxBytes; i++) if ((this.byte() & 0x80) === 0) return;
    throw malformed('LEB128 integer too long', at);
  }

  /** Signed LEB128 of at most 33 bits, as a number (block types, heap types). */
  s33(): number {
    const at = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - mul : result;
    }
    throw malformed('LEB128 s33 too long', at);
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw malformed(`${n} bytes past the end`, this.pos);
    this.pos += n;
  }

  skipName(): void {
    this.skip(this.u32());
  }

  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    return new TextDecoder().decode(this.bytes.subarray(start, start + len));
  }
}

export function encodeU32(n: number): number[] {
  const out: number[] = [];
  n >>>= 0;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function encodeS32(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...encodeU32(b.length), ...b];
}

/** A growable output buffer. */
export class WasmWriter {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  push(...b: number[]): void {
    this.room(b.length);
    for (const x of b) this.buf[this.length++] = x;
  }

  u32(n: number): void {
    this.room(5);
    n >>>= 0;
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      this.buf[this.length++] = b;
    } while (n !== 0);
  }

  /** The bytes written so far, as a view (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.length);
  }
}

export interface WasmSection {
  id: number;
  /** The section's content (after id and size), a view into the input. */
  body: Uint8Array;
  /** Offset of body in the input, for error messages. */
  offset: number;
}

export const SectionId = {
  Custom: 0,
  Type: 1,
  Import: 2,
  Function: 3,
  Table: 4,
  Memory: 5,
  Global: 6,
  Export: 7,
  Start: 8,
  Element: 9,
  Code: 10,
  Data: 11,
  DataCount: 12,
  Tag: 13,
} as const;

/** Where each non-custom section must sit (the tag section goes between memory and global). */
export const SECTION_ORDER: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

/** Checks the preamble and splits a module into its sections, in file order. */
export function readSections(wasm: Uint8Array): WasmSection[] {
  if (wasm.length < 8) throw malformed('shorter than the 8-byte preamble', 0);
  const magic = wasm[0] === 0x00 && wasm[1] === 0x61 && wasm[2] === 0x73 && wasm[3] === 0x6d;
  if (!magic) throw malformed('bad magic (not a wasm module)', 0);
  if (wasm[4] !== 1 || wasm[5] !== 0 || wasm[6] !== 0 || wasm[7] !== 0)
    throw malformed('unsupported version (not a core module v1)', 4);
  const r = new WasmReader(wasm, 8);
  const out: WasmSection[] = [];
  let lastOrder = 0;
  while (!r.done) {
    const at = r.pos;
    const id = r.byte();
    const size = r.u32();
    const offset = r.pos;
    r.skip(size);
    if (id !== SectionId.Custom) {
      const order = SECTION_ORDER[id];
      if (order === undefined) throw malformed(`unknown section id ${id}`, at);
      if (order <= lastOrder) throw malformed(`section ${id} out of order or repeated`, at);
      lastOrder = order;
    }
    out.push({ id, body: wasm.subarray(offset, offset + size), offset });
  }
  return out;
}

/** Reads a custom section's name (its first field). */
export function customSectionName(s: WasmSection): string {
  return new WasmReader(s.body).name();
}
