// Makes a wasm module interruptible by a wall-clock deadline without threads. A binary rewrite
// adds checks that charge one mutable i32 global, the fuel, and call the imported
// `berth_deadline.tick` when it runs out; tick returns the next fuel, or 0 once the deadline has
// passed, and the check then traps (`unreachable`). A trap, not a JS exception thrown by tick: a
// guest's catch_all catches any exception an import throws, but no wasm handler catches a trap, so
// a guest cannot keep running past its deadline by catching it (nested catches each ran on to
// their next charge). The runner learns of the deadline from tick (onExceeded) and reports the
// trap as the deadline. Used where a guest runs synchronously on a thread that must not freeze (the
// SW, with no window open).
// - Every function entry is charged, leaves included, and every loop iteration: the work between
//   two charges is then bounded by straight-line code, whatever the call graph (a short loop in a
//   leaf called from nested loops, indirect calls, recursion). One global, not a counter per
//   function: a per-function local restarts at every call, so a leaf with short loops never ran
//   out (measured: 4x its deadline, or hours with larger loops).
// - A check is also added wherever some path could have run over STRETCH bytes (512) of code since
//   its last charge (see copyHoisted): a run moves forward in the code between charges (a backward
//   jump is a loop turn, a call an entry), so it runs at most that much of a function's code
//   between two charges; the returns of a chain of D calls may add D x 512 bytes, but each frame
//   paid its entry, so per tick it is at most (fuel + stack depth) x 512 bytes. Without it, a loop
//   whose body is one long straight run did fuel times its length before a tick: minutes past the
//   deadline for a module of a few MB.
// - Entering a try or try_table is charged, and a try may have at most MAX_CATCHES clauses: a throw
//   searches every handler of every try it is in. memory.atomic.wait is refused: it blocks.
// - The call to tick is hoisted out of each loop: `loop L ... end` becomes
//     block $done (L's type) loop $outer block $tick
//       loop L  if (--fuel < 0) br $tick  ...  end  br $done
//     end  fuel = tick(); br_if $outer (fuel)  end unreachable end
//   because a call inside a loop, even one never taken, keeps V8 from optimizing the loop.
//   Branches in the loop that leave it skip 3 more labels. Loops with parameters and function
//   entries use the plain check: if (fuel < 1) { fuel = tick(); if (!fuel) unreachable } fuel -= 1.
// Words: "fuel" = charges left before the next tick; "check" = one injected instruction sequence.
import { DeadlineExceeded, RuntimeError } from '../core/index.ts';
import { Op, opensBlock, skipBlockType, skipImmediates, skipValType } from './wasm-binary-instructions.ts';

/** The opcodes the checks are made of (and the empty block type). */
const I = {
  Unreachable: 0x00,
  Block: 0x02,
  Loop: 0x03,
  If: 0x04,
  End: 0x0b,
  Br: 0x0c,
  BrIf: 0x0d,
  Call: 0x10,
  LocalGet: 0x20,
  LocalTee: 0x22,
  GlobalGet: 0x23,
  GlobalSet: 0x24,
  I32Const: 0x41,
  I32LtS: 0x48,
  I32Sub: 0x6b,
  EmptyBlock: 0x40,
} as const;
import {
  customSectionName,
  encodeName,
  encodeS32,
  encodeU32,
  malformed,
  readSections,
  SECTION_ORDER,
  SectionId,
  WasmReader,
  WasmWriter,
  type WasmSection,
} from './wasm-binary-reader.ts';

export const DeadlineImport = { module: 'berth_deadline', name: 'tick' } as const;

/**
 * The name a metered module exports its fuel global under: a host that throws the deadline into
 * the guest (a sleep) sets it to 0 (spendFuel), so a guest that catches that throw reaches a tick,
 * and traps there, at its next charge instead of up to a whole fuel later.
 */
export const FUEL_EXPORT = 'berth_deadline.fuel';

/** Makes a metered instance's next charge call tick (no-op for an instance that is not metered). */
export function spendFuel(instance: WebAssembly.Instance): void {
  const fuel = instance.exports[FUEL_EXPORT];
  if (fuel instanceof WebAssembly.Global) fuel.value = 0;
}

/**
 * The version of this rewrite. Metered modules kept between sessions are kept under it (see
 * MODULE_CACHE in run/module-cache.ts): a rewrite that changes must never leave modules metered by
 * the one before in use, as they keep its holes. Raise it with every change to what is emitted.
 */
export const DEADLINE_REWRITE = 3;

/** Checks between two ticks. A tick costs a JS call and a clock read (~0.1 µs); see bench/deadline.bench.ts. */
export const DEFAULT_FUEL = 65_536;

export interface DeadlineOptions {
  /** Checks between two calls of tick (1 .. 2^31-1). */
  fuel?: number;
}

export interface InstrumentDeadlineOptions extends DeadlineOptions {
  /** Bytes of code a run may go through between two checks (default STRETCH; Infinity: no bound). */
  stretch?: number;
}

export { DeadlineExceeded } from '../core/index.ts';

function checkFuel(fuel: number): number {
  if (!Number.isInteger(fuel) || fuel < 1 || fuel > 0x7fffffff) {
    throw new RuntimeError(
      'invalid-argument',
      `Cannot instrument for a deadline: fuel must be an integer in 1..2^31-1, not ${fuel}`,
    );
  }
  return fuel;
}

/**
 * The import object entry an instrumented module needs. `deadlineMs` is read at every tick, on the
 * clock of `now` (default performance.now()), so a caller may move the deadline. Once it has
 * passed, `onExceeded` is told (once) and every tick returns 0: the module traps at its check
 * (a WebAssembly.RuntimeError, "unreachable"), which the caller reports as that deadline.
 */
export function deadlineImports(
  deadlineMs: () => number,
  options: DeadlineOptions & {
    now?: () => number;
    /** Told the deadline once, when a tick first finds it passed; the run's trap is then this. */
    onExceeded?: (e: DeadlineExceeded) => void;
  } = {},
): { berth_deadline: { tick: () => number } } {
  const fuel = checkFuel(options.fuel ?? DEFAULT_FUEL);
  const now = options.now ?? (() => performance.now());
  let exceeded = false;
  return {
    berth_deadline: {
      tick: () => {
        if (exceeded) return 0;
        const t = now();
        const d = deadlineMs();
        if (t < d) return fuel;
        exceeded = true;
        options.onExceeded?.(new DeadlineExceeded(d, t));
        return 0;
      },
    },
  };
}

interface Plan {
  importedFuncs: number;
  tickFunc: number;
  fuelGlobal: number;
  fuel: number;
  /** Parameter count of each type, and type of each defined function (to number a new local). */
  typeParams: number[];
  funcTypes: number[];
  /** The plain check's bytes: function entries and loops with parameters. */
  check: Uint8Array;
  stretch: number;
}

const shiftFunc = (p: Plan, f: number) => (f >= p.importedFuncs ? f + 1 : f);

/** Returns a copy of `wasm` with the fuel counter and tick import added; see the file header. */
export function instrumentDeadline(wasm: Uint8Array, options: InstrumentDeadlineOptions = {}): Uint8Array<ArrayBuffer> {
  const stretch = options.stretch ?? STRETCH;
  if (!(stretch >= 1)) {
    throw new RuntimeError(
      'invalid-argument',
      `Cannot instrument for a deadline: stretch must be >= 1, not ${stretch}`,
    );
  }
  const fuel = checkFuel(options.fuel ?? DEFAULT_FUEL);
  // Only a valid module is rewritten: an invalid one could become valid by naming the fuel global
  // (index = its global count) and write it, turning its own deadline off.
  if (!WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)) {
    throw new RuntimeError('invalid-argument', 'Cannot instrument for a deadline: the module is not valid wasm');
  }
  const sections = readSections(wasm);
  const find = (id: number) => sections.find((s) => s.id === id);
  const reader = (s: WasmSection) => new WasmReader(wasm, s.offset, s.offset + s.body.length);

  // Count what the new entries are appended after; no existing type or global index moves.
  let types = 0;
  const typeParams: number[] = [];
  const typeSec = find(SectionId.Type);
  if (typeSec) {
    const r = reader(typeSec);
    types = r.u32();
    for (let i = 0; i < types; i++) {
      const form = r.byte();
      if (form !== 0x60)
        throw new RuntimeError(
          'unimplemented',
          `Cannot instrument for a deadline: type form 0x${form.toString(16)} (GC types) is not supported`,
        );
      for (let k = 0; k < 2; k++) {
        const n = r.u32();
        if (k === 0) typeParams.push(n);
        for (let j = 0; j < n; j++) skipValType(r);
      }
    }
    endOf(r);
  }
  let importedFuncs = 0;
  let importedGlobals = 0;
  const importSec = find(SectionId.Import);
  if (importSec) {
    const r = reader(importSec);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const mod = r.name();
      const name = r.name();
      if (mod === DeadlineImport.module && name === DeadlineImport.name) {
        throw new RuntimeError(
          'failed-precondition',
          'Cannot instrument for a deadline: the module already imports berth_deadline.tick',
        );
      }
      const kind = r.byte();
      if (kind === 0) {
        r.u32();
        importedFuncs++;
      } else if (kind === 1) {
        skipValType(r);
        skipLimits(r);
      } else if (kind === 2) skipLimits(r);
      else if (kind === 3) {
        skipValType(r);
        r.byte();
        importedGlobals++;
      } else if (kind === 4) {
        r.byte();
        r.u32();
      } else throw malformed(`unknown import kind ${kind}`, r.pos - 1);
    }
    endOf(r);
  }
  const funcTypes: number[] = [];
  const funcSec = find(SectionId.Function);
  if (funcSec) {
    const r = reader(funcSec);
    const n = r.u32();
    for (let i = 0; i < n; i++) funcTypes.push(r.u32());
    endOf(r);
  }
  const globalSec = find(SectionId.Global);
  const definedGlobals = globalSec ? reader(globalSec).u32() : 0;

  const p: Plan = {
    importedFuncs,
    tickFunc: importedFuncs,
    fuelGlobal: importedGlobals + definedGlobals,
    fuel,
    typeParams,
    funcTypes,
    check: new Uint8Array(),
    stretch,
  };
  const g = encodeU32(p.fuelGlobal);
  // if (fuel < 1) { fuel = tick(); if (!fuel) unreachable } fuel -= 1
  p.check = Uint8Array.from([
    ...[I.GlobalGet, ...g, I.I32Const, 1, I.I32LtS],
    ...[I.If, I.EmptyBlock, I.Call, ...encodeU32(p.tickFunc), I.GlobalSet, ...g],
    ...[I.GlobalGet, ...g, I.BrIf, 0, I.Unreachable, I.End],
    ...[I.GlobalGet, ...g, I.I32Const, 1, I.I32Sub, I.GlobalSet, ...g],
  ]);

  const out: { id: number; body: Uint8Array }[] = [];
  for (const s of sections) {
    const r = reader(s);
    switch (s.id) {
      case SectionId.Type:
        out.push({ id: s.id, body: appendToVector(r, [0x60, 0x00, 0x01, 0x7f]) });
        break;
      case SectionId.Import:
        out.push({ id: s.id, body: appendToVector(r, tickImport(types)) });
        break;
      case SectionId.Table:
        out.push({ id: s.id, body: rewriteTables(r, p) });
        break;
      case SectionId.Global:
        out.push({ id: s.id, body: rewriteGlobals(r, p, fuel) });
        break;
      case SectionId.Export:
        out.push({ id: s.id, body: rewriteExports(r, p) });
        break;
      case SectionId.Start: {
        const f = r.u32();
        endOf(r);
        out.push({ id: s.id, body: Uint8Array.from(encodeU32(shiftFunc(p, f))) });
        break;
      }
      case SectionId.Element:
        out.push({ id: s.id, body: rewriteElements(r, p) });
        break;
      case SectionId.Code:
        out.push({ id: s.id, body: rewriteCode(r, p) });
        break;
      case SectionId.Custom: {
        const name = safeCustomName(s);
        if (name === 'name') {
          const fixed = rewriteNameSection(r, p);
          if (fixed) out.push({ id: s.id, body: fixed });
        } else if (name !== undefined && !name.startsWith('metadata.code.')) out.push({ id: s.id, body: s.body });
        // metadata.code.* (branch hints) hold code offsets that the inserted checks invalidate: dropped.
        break;
      }
      default:
        out.push({ id: s.id, body: s.body });
    }
  }
  // Create the sections the module lacked, each in its place.
  if (!typeSec) insertSection(out, SectionId.Type, Uint8Array.from([1, 0x60, 0x00, 0x01, 0x7f]));
  if (!importSec) insertSection(out, SectionId.Import, Uint8Array.from([1, ...tickImport(types)]));
  if (!globalSec) insertSection(out, SectionId.Global, Uint8Array.from([1, ...fuelGlobal(fuel)]));
  if (!find(SectionId.Export)) insertSection(out, SectionId.Export, Uint8Array.from([1, ...fuelExport(p)]));

  const w = new WasmWriter();
  w.bytes(wasm.subarray(0, 8));
  for (const s of out) {
    w.push(s.id);
    w.u32(s.body.length);
    w.bytes(s.body);
  }
  return w.finish();
}

function endOf(r: WasmReader): void {
  if (r.pos !== r.end) throw malformed('section has trailing bytes', r.pos);
}

function safeCustomName(s: WasmSection): string | undefined {
  try {
    return customSectionName(s);
  } catch {
    return undefined; // a custom section with a broken name is dropped
  }
}

function skipLimits(r: WasmReader): void {
  const flags = r.byte();
  r.skipLeb(10);
  if (flags & 1) r.skipLeb(10);
}

function tickImport(typeIndex: number): number[] {
  return [...encodeName(DeadlineImport.module), ...encodeName(DeadlineImport.name), 0x00, ...encodeU32(typeIndex)];
}

function fuelGlobal(fuel: number): number[] {
  return [0x7f, 0x01, 0x41, ...encodeS32(fuel), 0x0b];
}

function insertSection(out: { id: number; body: Uint8Array }[], id: number, body: Uint8Array): void {
  const order = SECTION_ORDER[id];
  let i = 0;
  // After every custom or known section that must come before it (customs keep their neighbours).
  let at = 0;
  for (; i < out.length; i++) {
    const o = out[i].id === SectionId.Custom ? undefined : SECTION_ORDER[out[i].id];
    if (o !== undefined && o > order) break;
    if (o !== undefined) at = i + 1;
  }
  out.splice(at, 0, { id, body });
}

/** Copies a vector section and appends one entry. */
function appendToVector(r: WasmReader, entry: number[]): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n + 1);
  w.bytes(r.bytes.subarray(r.pos, r.end));
  w.push(...entry);
  return w.finish();
}

// Hot path: module-level copies, since some loaders turn every imported binding into a getter call.
const OP_CALL = Op.Call;
const OP_RETURN_CALL = Op.ReturnCall;
const OP_REF_FUNC = Op.RefFunc;
const OP_END = Op.End;
const OP_LOOP = Op.Loop;
const skip = skipImmediates;
/**
 * Bytes of original code after which a check is added even with no loop or entry there (see the
 * file header). Between two charges a run then moves forward through at most this much code.
 */
export const STRETCH = 512;
/**
 * Catch clauses a try or try_table may have: a throw compares its tag with each clause of each try
 * it is in, work no byte count sees (100,000 clauses: 2.5 ms per charge). Entering a try is charged.
 */
export const MAX_CATCHES = 64;
const tooManyCatches = (at: number) =>
  new RuntimeError(
    'invalid-argument',
    `Cannot instrument for a deadline: a try (byte ${at}) has more than ${MAX_CATCHES} catch clauses`,
  );
/** The `est` of code nothing falls through to (see copyHoisted). */
const DEAD = Number.NEGATIVE_INFINITY;
/** 0xFC sub-opcodes whose work grows with an operand: see copyHoisted. */
const BULK = new Set([8, 10, 11, 12, 14, 15, 17]);
const opens = opensBlock;

/**
 * Copies instructions (a constant expression) up to and including the `end` that closes the
 * current block, shifting function indices.
 */
function copyInstructions(r: WasmReader, w: WasmWriter, p: Plan): void {
  let from = r.pos;
  let depth = 0;
  for (;;) {
    const op = r.byte();
    if (op === OP_CALL || op === OP_RETURN_CALL || op === OP_REF_FUNC) {
      w.bytes(r.bytes.subarray(from, r.pos));
      w.u32(shiftFunc(p, r.u32()));
      from = r.pos;
      continue;
    }
    skip(r, op);
    if (op === OP_END) {
      if (depth === 0) break;
      depth--;
    } else if (opens(op)) depth++;
  }
  w.bytes(r.bytes.subarray(from, r.pos));
}

function rewriteCode(r: WasmReader, p: Plan): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    const end = r.pos + size;
    if (end > r.end) throw malformed(`function ${i} body runs past the code section`, r.pos);
    const body = new WasmReader(r.bytes, r.pos, end);
    const groups = body.u32();
    const groupsStart = body.pos;
    const typeIndex = p.funcTypes[i];
    if (typeIndex === undefined || p.typeParams[typeIndex] === undefined)
      throw malformed(`function ${i} has no valid type`, r.pos);
    let locals = p.typeParams[typeIndex];
    for (let j = 0; j < groups; j++) {
      locals += body.u32();
      skipValType(body);
    }
    const groupsEnd = body.pos;
    const iw = new WasmWriter();
    const seen = copyHoisted(body, iw, p, locals);
    if (body.pos !== end) throw malformed(`function ${i} body has bytes after its final end`, body.pos);
    const fw = new WasmWriter();
    if (seen.loops) {
      fw.u32(groups + 1);
      fw.bytes(r.bytes.subarray(groupsStart, groupsEnd));
      fw.push(0x01, 0x7f); // one i32 scratch local for the loop check
    } else fw.bytes(r.bytes.subarray(r.pos, groupsEnd));
    fw.bytes(p.check); // every entry is charged, leaves included
    fw.bytes(iw.view());
    w.u32(fw.length);
    w.bytes(fw.view());
    r.pos = end;
  }
  endOf(r);
  return w.finish();
}

/** A block, loop, if, try or try_table open while copying a body (the function's own first). */
interface Frame {
  /** Its loop check was hoisted (3 more labels inside). */
  hoisted: boolean;
  loop: boolean;
  /** Where it opened, and the code any path had run uncharged there (`est`, see copyHoisted). */
  at: number;
  est: number;
  /** The most code run uncharged by a path that branches to its end. */
  maxIn: number;
  /** try_table: the frames its catch clauses branch to. */
  catches?: Frame[];
  /** try: its catch and catch_all clauses so far. */
  clauses?: number;
}

/**
 * Copies a function body (`scratch` is the index of the i32 local the loop check may use), charging
 * every loop iteration to the fuel global: tick is hoisted out of each loop whose block type has no
 * parameters (see the file header), shifting the labels of branches that leave such loops.
 *
 * It also bounds the code any run does between two charges (`p.stretch` bytes, see the file header).
 * A single forward pass keeps `est`: the most original code a path that reaches the current
 * instruction may have run since its last charge. A check goes before an instruction where `est`
 * would pass `stretch`. Code only moves forward, except a branch to a loop, whose head is charged;
 * a path reaches an instruction by falling through, or at a block's end by a branch from inside the
 * block (each branch's `est` is kept for that end), at an else from its if, at a catch from any
 * point of its try. After br, br_table, return, unreachable and the throws, nothing falls through.
 */
function copyHoisted(r: WasmReader, w: WasmWriter, p: Plan, scratch: number): { loops: boolean } {
  const l = encodeU32(scratch);
  const g = encodeU32(p.fuelGlobal);
  // fuel -= 1; if (fuel < 0) br $tick
  const head = Uint8Array.from([
    ...[I.GlobalGet, ...g, I.I32Const, 1, I.I32Sub, I.LocalTee, ...l, I.GlobalSet, ...g],
    ...[I.LocalGet, ...l, I.I32Const, 0, I.I32LtS, I.BrIf, 1],
  ]);
  // fuel = tick(); if (!fuel) unreachable: a deadline check now
  const tickNow = Uint8Array.from([
    ...[I.Block, I.EmptyBlock, I.Call, ...encodeU32(p.tickFunc), I.GlobalSet, ...g],
    ...[I.GlobalGet, ...g, I.BrIf, 0, I.Unreachable, I.End],
  ]);
  // end L; br $done; end $tick; fuel = tick(); br_if $outer (fuel); end $outer; unreachable; end $done
  const tail = Uint8Array.from([
    ...[I.End, I.Br, 2, I.End],
    ...[I.Call, ...encodeU32(p.tickFunc), I.GlobalSet, ...g, I.GlobalGet, ...g, I.BrIf, 0],
    ...[I.End, I.Unreachable, I.End],
  ]);
  /** Open blocks, innermost last (the function body first). */
  const frames: Frame[] = [{ hoisted: false, loop: false, at: r.pos, est: 0, maxIn: DEAD }];
  let from = r.pos;
  let loops = false;
  // est(pos) = base + (pos - baseAt); base is DEAD where nothing falls through (-Infinity).
  let base = 0; // the entry is charged (rewriteCode)
  let baseAt = r.pos;
  const est = (pos: number) => base + (pos - baseAt);
  const restart = (value: number, pos: number) => {
    base = value;
    baseAt = pos;
  };
  const flush = (to: number) => {
    w.bytes(r.bytes.subarray(from, to));
    from = to;
  };
  /** A label as seen from inside `depth` open blocks, plus 3 per hoisted loop it leaves. */
  const relabel = (label: number, depth: number) => {
    let extra = 0;
    for (let i = 0; i < label && i < depth; i++) if (frames[depth - 1 - i].hoisted) extra += 3;
    return label + extra;
  };
  /** A branch at `at` to `label` (seen from `depth` blocks): its end sees this path. */
  const branchTo = (label: number, depth: number, at: number) => {
    const f = frames[depth - 1 - label];
    if (f && !f.loop) f.maxIn = Math.max(f.maxIn, est(at));
  };
  /** Where a block closes at `at` (its end or delegate): paths go on from its end. */
  const close = (f: Frame, at: number, next: number) => {
    // Paths go on from the fall-through, or from a branch to the end (none for a loop: a branch to
    // it goes back to its head). Throws from a try_table body reach its catches' targets.
    for (const t of f.catches ?? []) t.maxIn = Math.max(t.maxIn, f.est + (at - f.at));
    restart(Math.max(est(at), f.maxIn), next);
  };
  for (;;) {
    const at = r.pos;
    if (est(at) > p.stretch) {
      // A long stretch with no check on some path to here: charged once more (see the file header).
      flush(at);
      w.bytes(p.check);
      restart(0, at);
    }
    const op = r.byte();
    if (op === OP_CALL || op === OP_RETURN_CALL || op === OP_REF_FUNC) {
      flush(r.pos);
      w.u32(shiftFunc(p, r.u32()));
      from = r.pos;
      if (op === OP_RETURN_CALL) restart(DEAD, r.pos);
      continue;
    }
    if (
      op === 0x0c ||
      op === 0x0d ||
      op === 0x09 ||
      op === 0xd5 ||
      op === 0xd6 ||
      op === 0x0e ||
      op === 0x18 ||
      op === 0x1f
    ) {
      // Branches (and rethrow, delegate, try_table catches) re-encoded with shifted labels.
      flush(r.pos);
      let depth = frames.length;
      let closed: Frame | undefined;
      if (op === 0x18) {
        depth--; // delegate closes its try first
        closed = frames.pop();
      }
      if (op === 0x0e) {
        const n = r.u32();
        w.u32(n);
        for (let i = 0; i <= n; i++) {
          const label = r.u32();
          branchTo(label, depth, at);
          w.u32(relabel(label, depth));
        }
      } else if (op === 0x1f) {
        const bt = r.pos;
        skipBlockType(r);
        w.bytes(r.bytes.subarray(bt, r.pos));
        const n = r.u32();
        if (n > MAX_CATCHES) throw tooManyCatches(at);
        w.u32(n);
        const catches: Frame[] = [];
        for (let i = 0; i < n; i++) {
          const kind = r.byte();
          w.push(kind);
          if (kind === 0x00 || kind === 0x01) w.u32(r.u32());
          const label = r.u32();
          const target = frames[depth - 1 - label];
          if (target && !target.loop) catches.push(target);
          w.u32(relabel(label, depth));
        }
        frames.push({ hoisted: false, loop: false, at, est: est(at), maxIn: DEAD, catches });
        // Entering a try_table is charged: a throw searches the handlers of every try it is in.
        w.bytes(p.check);
        restart(0, r.pos);
      } else {
        const label = r.u32();
        // br, br_if, br_on_null, br_on_non_null branch to the label; rethrow and delegate throw
        if (op !== 0x09 && op !== 0x18) branchTo(label, depth, at);
        w.u32(relabel(label, depth));
      }
      from = r.pos;
      if (closed) close(closed, at, r.pos);
      else if (op === 0x0c || op === 0x0e || op === 0x09) restart(DEAD, r.pos);
      continue;
    }
    if (op === 0xfe) {
      const sub = r.peekU32();
      if (sub === 1 || sub === 2) {
        throw new RuntimeError(
          'invalid-argument',
          `Cannot instrument for a deadline: memory.atomic.wait (byte ${at}) blocks its thread past any deadline`,
        );
      }
    }
    if (op === 0xfc) {
      // The bulk instructions do work in proportion to their length, not one unit: the deadline is
      // checked before each (fuel = tick()), so a loop of large fills or copies cannot outrun it.
      // memory.init, memory.copy, memory.fill, table.init, table.copy, table.grow (fills the new
      // entries), table.fill. (A loop of table.fill over 10^7 entries ran 4 hours to its first tick.)
      const sub = r.peekU32();
      if (BULK.has(sub)) {
        flush(at);
        w.bytes(tickNow);
        restart(0, at);
      }
    }
    skip(r, op);
    if (op === OP_END) {
      const f = frames.pop() as Frame;
      if (frames.length === 0) break;
      if (f.hoisted) {
        flush(at);
        w.bytes(tail);
        from = r.pos;
      }
      close(f, at, r.pos);
    } else if (op === 0x05) {
      // else: the then arm's fall-through goes to the if's end; the else arm starts from the if.
      const f = frames[frames.length - 1];
      f.maxIn = Math.max(f.maxIn, est(at));
      restart(f.est, r.pos);
    } else if (op === 0x07 || op === 0x19) {
      // catch, catch_all: reached from any point of the try body (or an earlier catch)
      const f = frames[frames.length - 1];
      f.clauses = (f.clauses ?? 0) + 1;
      if (f.clauses > MAX_CATCHES) throw tooManyCatches(at);
      f.maxIn = Math.max(f.maxIn, est(at));
      restart(f.est + (at - f.at), r.pos);
    } else if (op === 0x0f || op === 0x00 || op === 0x08 || op === 0x0a || op === 0x13 || op === 0x15) {
      // return, unreachable, throw, throw_ref, return_call_indirect, return_call_ref
      restart(DEAD, r.pos);
    } else if (opens(op)) {
      let hoistThis = false;
      const entered = est(at);
      if (op === OP_LOOP) {
        loops = true;
        const bt = r.bytes.subarray(at + 1, r.pos);
        hoistThis = new WasmReader(bt).s33() < 0; // no type index, so no parameters
        flush(at);
        if (hoistThis) {
          w.push(I.Block, ...bt, I.Loop, I.EmptyBlock, I.Block, I.EmptyBlock, I.Loop, ...bt);
          w.bytes(head);
        } else {
          w.bytes(r.bytes.subarray(at, r.pos));
          w.bytes(p.check);
        }
        from = r.pos;
        restart(0, r.pos);
      }
      // An if's end is also reached with the condition false, skipping its then arm.
      const maxIn = op === 0x04 ? entered : DEAD;
      frames.push({ hoisted: hoistThis, loop: op === OP_LOOP, at, est: entered, maxIn });
      if (op === 0x06) {
        // Entering a try is charged: a throw searches the handlers of every try it is in.
        flush(r.pos);
        w.bytes(p.check);
        restart(0, r.pos);
      }
    }
  }
  flush(r.pos);
  return { loops };
}

function rewriteTables(r: WasmReader, p: Plan): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    const withInit = r.peek() === 0x40;
    if (withInit) r.skip(2);
    skipValType(r);
    skipLimits(r);
    w.bytes(r.bytes.subarray(start, r.pos));
    if (withInit) copyInstructions(r, w, p);
  }
  endOf(r);
  return w.finish();
}

function rewriteGlobals(r: WasmReader, p: Plan, fuel: number): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n + 1);
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    skipValType(r);
    r.byte();
    w.bytes(r.bytes.subarray(start, r.pos));
    copyInstructions(r, w, p);
  }
  endOf(r);
  w.push(...fuelGlobal(fuel));
  return w.finish();
}

function rewriteExports(r: WasmReader, p: Plan): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n + 1);
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    if (r.name() === FUEL_EXPORT) {
      throw new RuntimeError(
        'failed-precondition',
        `Cannot instrument for a deadline: the module exports ${FUEL_EXPORT}`,
      );
    }
    const kind = r.byte();
    w.bytes(r.bytes.subarray(start, r.pos));
    const idx = r.u32();
    w.u32(kind === 0 ? shiftFunc(p, idx) : idx);
  }
  endOf(r);
  w.push(...fuelExport(p));
  return w.finish();
}

function fuelExport(p: Plan): number[] {
  return [...encodeName(FUEL_EXPORT), 0x03, ...encodeU32(p.fuelGlobal)];
}

function rewriteElements(r: WasmReader, p: Plan): Uint8Array {
  const n = r.u32();
  const w = new WasmWriter();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const flags = r.u32();
    if (flags > 7) throw malformed(`unknown element segment flags ${flags}`, at);
    w.u32(flags);
    let from = r.pos;
    if (flags === 2 || flags === 6) r.u32(); // table index
    if ((flags & 1) === 0) {
      // active: offset expression
      w.bytes(r.bytes.subarray(from, r.pos));
      copyInstructions(r, w, p);
      from = r.pos;
    }
    const usesExprs = (flags & 4) !== 0;
    if (flags & 3) {
      // explicit element kind (0x00 = funcref) or reference type
      if (usesExprs) skipValType(r);
      else r.byte();
    }
    w.bytes(r.bytes.subarray(from, r.pos));
    const count = r.u32();
    w.u32(count);
    for (let j = 0; j < count; j++) {
      if (usesExprs) copyInstructions(r, w, p);
      else w.u32(shiftFunc(p, r.u32()));
    }
  }
  endOf(r);
  return w.finish();
}

/** Shifts function indices in the function, local and label name maps; undefined drops a broken section. */
function rewriteNameSection(r: WasmReader, p: Plan): Uint8Array | undefined {
  try {
    const w = new WasmWriter();
    const start = r.pos;
    r.name();
    w.bytes(r.bytes.subarray(start, r.pos));
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      const sub = new WasmReader(r.bytes, r.pos, end);
      if (id === 1 || id === 2 || id === 3) {
        const sw = new WasmWriter();
        const n = sub.u32();
        sw.u32(n);
        for (let i = 0; i < n; i++) {
          sw.u32(shiftFunc(p, sub.u32()));
          const from = sub.pos;
          if (id === 1) sub.skipName();
          else {
            const m = sub.u32();
            for (let j = 0; j < m; j++) {
              sub.u32();
              sub.skipName();
            }
          }
          sw.bytes(r.bytes.subarray(from, sub.pos));
        }
        if (sub.pos !== end) return undefined;
        w.push(id);
        w.u32(sw.length);
        w.bytes(sw.view());
      } else {
        sub.skip(size);
        w.push(id);
        w.u32(size);
        w.bytes(r.bytes.subarray(r.pos, end));
      }
      r.pos = end;
    }
    return w.finish();
  } catch {
    return undefined;
  }
}
