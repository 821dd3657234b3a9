// A hard cap on a module's linear memory: the memory section's maximum is lowered to the cap, so
// `memory.grow` past it fails (returns -1, and malloc returns NULL) whether or not the program ever
// calls out to the host. The broker's own check (runtime/wasi/guest-memory.ts) stays for memories
// a module imports, which this leaves alone.
import { RuntimeError } from '../core/index.ts';
import { readSections, SectionId, WasmReader, WasmWriter } from './wasm-binary-reader.ts';

const PAGE = 65536;

/** A copy of `wasm` whose defined memories grow to at most `maxBytes` (rounded down to pages). */
export function limitMemory(wasm: Uint8Array, maxBytes: number): Uint8Array<ArrayBuffer> {
  const maxPages = Math.floor(maxBytes / PAGE);
  const sections = readSections(wasm);
  const w = new WasmWriter();
  w.bytes(wasm.subarray(0, 8));
  for (const s of sections) {
    const body =
      s.id === SectionId.Memory
        ? limitSection(new WasmReader(wasm, s.offset, s.offset + s.body.length), maxPages, maxBytes)
        : s.body;
    w.push(s.id);
    w.u32(body.length);
    w.bytes(body);
  }
  return w.finish();
}

function limitSection(r: WasmReader, maxPages: number, maxBytes: number): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const flags = r.byte();
    if (flags & 0x04) throw new RuntimeError('unimplemented', 'memory64 modules cannot be given a memory limit yet');
    const min = r.u32();
    const max = flags & 0x01 ? r.u32() : Number.POSITIVE_INFINITY;
    if (min > maxPages) {
      throw new RuntimeError(
        'resource-exhausted',
        `the program needs ${min * PAGE} bytes of memory to start, more than its limit of ${maxBytes}`,
      );
    }
    w.push(flags | 0x01);
    w.u32(min);
    w.u32(Math.min(max, maxPages));
  }
  if (r.pos !== r.end)
    throw new RuntimeError('invalid-argument', 'malformed wasm: the memory section has trailing bytes');
  return w.finish();
}
