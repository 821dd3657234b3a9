// Instruction decoding for function bodies and constant expressions: knows the immediates of every
// opcode of MVP, sign extension, non-trapping float-to-int, bulk memory, reference types, multi
// memory, memory64, SIMD (incl. relaxed), threads, tail calls, exceptions (legacy and exnref) and
// typed function references. GC (0xFB) is refused, not guessed.
import { malformed, type WasmReader } from './wasm-binary-reader.ts';

export const Op = {
  Block: 0x02,
  Loop: 0x03,
  If: 0x04,
  Else: 0x05,
  Try: 0x06,
  End: 0x0b,
  Call: 0x10,
  ReturnCall: 0x12,
  TryTable: 0x1f,
  RefFunc: 0xd2,
} as const;

/** Opcodes whose matching `end` closes a block. */
export function opensBlock(op: number): boolean {
  return op === Op.Block || op === Op.Loop || op === Op.If || op === Op.Try || op === Op.TryTable;
}

/** A heap type: an abstract one (negative, one byte) or a type index. */
export function skipHeapType(r: WasmReader): void {
  r.s33();
}

/** A value type: numeric/vector/abstract ref in one byte, or (ref null? ht). */
export function skipValType(r: WasmReader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) skipHeapType(r);
}

export function skipBlockType(r: WasmReader): void {
  const b = r.peek();
  if (b === 0x63 || b === 0x64) {
    r.pos++;
    skipHeapType(r);
  } else r.s33(); // 0x40 (empty), a one-byte value type, or a type index
}

function skipMemArg(r: WasmReader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: memory index follows
  r.skipLeb(10); // offset: u32, or u64 with memory64
}

/**
 * Skips the immediates of the instruction whose first byte `op` was just read. Returns the
 * sub-opcode for prefixed instructions (0xFC, 0xFD, 0xFE), else -1.
 */
export function skipImmediates(r: WasmReader, op: number): number {
  const at = r.pos - 1;
  switch (op) {
    // control
    case 0x00:
    case 0x01:
    case 0x05:
    case 0x0a:
    case 0x0b:
    case 0x0f:
    case 0x19:
      return -1;
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:
      skipBlockType(r);
      return -1;
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0c:
    case 0x0d:
    case 0x18: // catch, throw, rethrow, br, br_if, delegate
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x15: // call, return_call, call_ref, return_call_ref
    case 0xd5:
    case 0xd6: // br_on_null, br_on_non_null
      r.u32();
      return -1;
    case 0x0e: {
      // br_table
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
      return -1;
    }
    case 0x11:
    case 0x13: // call_indirect, return_call_indirect: type, table
      r.u32();
      r.u32();
      return -1;
    case 0x1f: {
      // try_table: block type, catches
      skipBlockType(r);
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const kind = r.byte();
        if (kind === 0x00 || kind === 0x01)
          r.u32(); // tag
        else if (kind !== 0x02 && kind !== 0x03) throw malformed(`unknown try_table catch kind ${kind}`, r.pos - 1);
        r.u32(); // label
      }
      return -1;
    }
    // parametric
    case 0x1a:
    case 0x1b:
      return -1;
    case 0x1c: {
      // select t*
      const n = r.u32();
      for (let i = 0; i < n; i++) skipValType(r);
      return -1;
    }
    // variables, tables
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
      r.u32();
      return -1;
    // constants
    case 0x41:
      r.skipLeb(5);
      return -1;
    case 0x42:
      r.skipLeb(10);
      return -1;
    case 0x43:
      r.skip(4);
      return -1;
    case 0x44:
      r.skip(8);
      return -1;
    case 0x3f:
    case 0x40: // memory.size, memory.grow
      r.u32();
      return -1;
    // references
    case 0xd0:
      skipHeapType(r);
      return -1;
    case 0xd1:
    case 0xd3:
    case 0xd4:
      return -1;
    case 0xd2:
      r.u32();
      return -1;
    case 0xfc:
      return skipFc(r, at);
    case 0xfd:
      return skipFd(r);
    case 0xfe:
      return skipFe(r, at);
    case 0xfb:
      throw malformed('GC instructions (0xFB) are not supported', at);
  }
  if (op >= 0x28 && op <= 0x3e) {
    skipMemArg(r);
    return -1;
  }
  if (op >= 0x45 && op <= 0xc4) return -1; // numeric, sign extension
  throw malformed(`unknown opcode 0x${op.toString(16)}`, at);
}

function skipFc(r: WasmReader, at: number): number {
  const sub = r.u32();
  switch (sub) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7: // trunc_sat
      break;
    case 8:
    case 10:
    case 12:
    case 14: // memory.init, memory.copy, table.init, table.copy
      r.u32();
      r.u32();
      break;
    case 9:
    case 11:
    case 13:
    case 15:
    case 16:
    case 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
      r.u32();
      break;
    default:
      throw malformed(`unknown 0xFC opcode ${sub}`, at);
  }
  return sub;
}

function skipFd(r: WasmReader): number {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93)
    skipMemArg(r); // loads, store, load32/64_zero
  else if (sub === 12 || sub === 13)
    r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34)
    r.skip(1); // extract/replace lane
  else if (sub >= 84 && sub <= 91) {
    skipMemArg(r); // load/store lane
    r.skip(1);
  }
  // everything else (arithmetic, relaxed SIMD 0x100..) has no immediates
  return sub;
}

function skipFe(r: WasmReader, at: number): number {
  const sub = r.u32();
  if (sub === 0x03)
    r.skip(1); // atomic.fence
  else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) skipMemArg(r);
  else throw malformed(`unknown 0xFE opcode ${sub}`, at);
  return sub;
}
