// Hand-made wasm modules for the deadline tests: hostile shapes no compiler emits on purpose.
import { encodeU32 } from '../../runtime/wasm/wasm-binary-reader.ts';

/**
 * A module of one function () -> () whose code is `instructions` (no locals), and a 1-page memory,
 * exported as `names.func` and `names.memory`.
 */
export function oneFunction(instructions: number[], names: { func: string; memory: string }): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...instructions, 0x0b];
  const name = (s: string) => [...encodeU32(s.length), ...new TextEncoder().encode(s)];
  const exports = [2, ...name(names.func), 0x00, 0, ...name(names.memory), 0x02, 0];
  const codeSection = [1, ...encodeU32(code.length), ...code];
  return Uint8Array.from([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...[1, 4, 1, 0x60, 0, 0],
    ...[3, 2, 1, 0],
    ...[5, 3, 1, 0x00, 1],
    ...[7, ...encodeU32(exports.length), ...exports],
    ...[10, ...encodeU32(codeSection.length), ...codeSection],
  ]);
}
