// Differential properties of the wasm rewriters (fast-check): for generated programs (nested
// blocks, ifs, bounded loops, calls, arithmetic; they print through an import), the module
// instrumented for deadlines validates and prints exactly what the original prints, at any fuel;
// with its deadline already passed it never finishes (DeadlineExceeded); limitMemory keeps it valid
// and equal. The C fixtures of the repo instrument to valid modules. Any bytes: RuntimeError or a
// result, never another error.
import { readdirSync, readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded, isRuntimeError } from '../core/index.ts';
import { deadlineImports, instrumentDeadline } from './instrument-deadline.ts';
import { limitMemory } from './limit-memory.ts';
import { encodeName, encodeS32, encodeU32, readSections } from './wasm-binary-reader.ts';

type Expr =
  | { k: 'const'; v: number }
  | { k: 'get'; i: number }
  | { k: 'bin'; op: number; a: Expr; b: Expr }
  | { k: 'eqz'; a: Expr };
type Stmt =
  | { k: 'set'; i: number; e: Expr }
  | { k: 'out'; e: Expr }
  | { k: 'if'; c: Expr; t: Stmt[]; f: Stmt[] }
  | { k: 'loop'; n: number; body: Stmt[] }
  | { k: 'call'; f: number; e: Expr };

// i32 add sub mul and or xor shl shr_u rotl
const OPS = [0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x76, 0x77];
const LOCALS = 3; // local 0: the parameter; 1, 2: scratch; 3: the loop counter (not in exprs)

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ k: fc.constant('const' as const), v: fc.integer() }),
    fc.record({ k: fc.constant('get' as const), i: fc.integer({ min: 0, max: LOCALS - 1 }) }),
    fc.record({ k: fc.constant('bin' as const), op: fc.constantFrom(...OPS), a: tie('expr'), b: tie('expr') }),
    fc.record({ k: fc.constant('eqz' as const), a: tie('expr') }),
  ),
}));

/** Statements of function `f` (calls go to lower functions only, so every program ends). */
function stmts(f: number, depth: number): fc.Arbitrary<Stmt[]> {
  const leaf: fc.Arbitrary<Stmt>[] = [
    fc.record({ k: fc.constant('set' as const), i: fc.integer({ min: 1, max: LOCALS - 1 }), e: expr }),
    fc.record({ k: fc.constant('out' as const), e: expr }),
  ];
  if (f > 0) leaf.push(fc.record({ k: fc.constant('call' as const), f: fc.integer({ min: 0, max: f - 1 }), e: expr }));
  const nested: fc.Arbitrary<Stmt>[] =
    depth > 0
      ? [
          fc.record({ k: fc.constant('if' as const), c: expr, t: stmts(f, depth - 1), f: stmts(f, depth - 1) }),
          // Loops nest at most once inside another: counts multiply.
          fc.record({ k: fc.constant('loop' as const), n: fc.integer({ min: 0, max: 6 }), body: stmts(f, depth - 1) }),
        ]
      : [];
  return fc.array(fc.oneof(...leaf, ...nested), { maxLength: 5 });
}

const program = fc
  .integer({ min: 1, max: 4 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, f) => stmts(f, 2))));

function emitExpr(e: Expr, out: number[]): void {
  if (e.k === 'const') out.push(0x41, ...encodeS32(e.v));
  else if (e.k === 'get') out.push(0x20, ...encodeU32(e.i));
  else if (e.k === 'eqz') {
    emitExpr(e.a, out);
    out.push(0x45);
  } else {
    emitExpr(e.a, out);
    emitExpr(e.b, out);
    out.push(e.op);
  }
}

function emitStmts(ss: Stmt[], out: number[], counter: number): void {
  for (const s of ss) {
    if (s.k === 'set') {
      emitExpr(s.e, out);
      out.push(0x21, ...encodeU32(s.i));
    } else if (s.k === 'out') {
      emitExpr(s.e, out);
      out.push(0x10, 0); // call import 0
    } else if (s.k === 'call') {
      emitExpr(s.e, out);
      out.push(0x10, ...encodeU32(s.f + 1), 0x1a); // call, drop the result
    } else if (s.k === 'if') {
      emitExpr(s.c, out);
      out.push(0x04, 0x40);
      emitStmts(s.t, out, counter);
      out.push(0x05);
      emitStmts(s.f, out, counter);
      out.push(0x0b);
    } else {
      // A local counter per nesting level: counter = n; block { loop { br_if 1 (counter == 0); body; counter--; br 0 } }
      out.push(0x41, ...encodeS32(s.n), 0x21, ...encodeU32(counter));
      out.push(0x02, 0x40, 0x03, 0x40);
      out.push(0x20, ...encodeU32(counter), 0x45, 0x0d, 1);
      emitStmts(s.body, out, counter + 1);
      out.push(0x20, ...encodeU32(counter), 0x41, 1, 0x6b, 0x21, ...encodeU32(counter), 0x0c, 0, 0x0b, 0x0b);
    }
  }
}

const section = (id: number, body: number[]) => [id, ...encodeU32(body.length), ...body];
const vec = (items: number[][]) => [...encodeU32(items.length), ...items.flat()];

/** A module: import env.out(i32); functions f0..fn-1 (i32) -> i32, each returning local 1; export run = the last. */
function emitModule(fns: Stmt[][]): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, 1, 0x7f, 0],
    [0x60, 1, 0x7f, 1, 0x7f],
  ]);
  const imports = vec([[...encodeName('env'), ...encodeName('out'), 0x00, 0]]);
  const funcs = vec(fns.map(() => [1]));
  const exports = vec([[...encodeName('run'), 0x00, ...encodeU32(fns.length)]]);
  const bodies = fns.map((ss) => {
    const code: number[] = [];
    emitStmts(ss, code, LOCALS);
    code.push(0x20, 1, 0x0b);
    const locals = [1, ...encodeU32(LOCALS - 1 + 4), 0x7f]; // scratch locals + loop counters
    const body = [...locals, ...code];
    return [...encodeU32(body.length), ...body];
  });
  return new Uint8Array([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, vec(bodies)),
  ]);
}

function run(wasm: Uint8Array<ArrayBuffer>, extra: WebAssembly.Imports = {}): number[] {
  const printed: number[] = [];
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), {
    env: { out: (v: number) => void printed.push(v) },
    ...extra,
  });
  printed.push((instance.exports.run as (x: number) => number)(7));
  return printed;
}

describe('deadline instrumentation', () => {
  test.prop([program, fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 64 })], { numRuns: 200 })(
    'an instrumented program validates and prints what the original prints, at any fuel and stretch',
    (fns, fuel, stretch) => {
      const wasm = emitModule(fns);
      expect(WebAssembly.validate(wasm)).toBe(true);
      // A small stretch puts checks for long stretches of code everywhere: in arms, blocks, loops.
      const metered = instrumentDeadline(wasm, { fuel, stretch });
      expect(WebAssembly.validate(metered)).toBe(true);
      expect(
        run(
          metered,
          deadlineImports(() => Number.POSITIVE_INFINITY, { fuel }),
        ),
      ).toEqual(run(wasm));
      const capped = limitMemory(wasm, 1 << 20);
      expect(run(capped as Uint8Array<ArrayBuffer>)).toEqual(run(wasm));
    },
  );

  test.prop([program], { numRuns: 100 })('with its deadline passed, an instrumented program never finishes', (fns) => {
    // Fuel 1 lets one charge through before tick: the entry. A loop of two turns charges again.
    const last = fns.length - 1;
    const looping = fns.map((ss, i) => (i === last ? [{ k: 'loop' as const, n: 2, body: [] }, ...ss] : ss));
    const metered = instrumentDeadline(emitModule(looping), { fuel: 1 });
    let exceeded: unknown;
    expect(() =>
      run(
        metered,
        deadlineImports(() => 0, { fuel: 1, onExceeded: (e) => (exceeded = e) }),
      ),
    ).toThrow(WebAssembly.RuntimeError);
    expect(exceeded).toBeInstanceOf(DeadlineExceeded);
  });

  test.prop([fc.uint8Array({ maxLength: 600 })], { numRuns: 300 })('any bytes: RuntimeError or a module', (bytes) => {
    for (const f of [() => readSections(bytes), () => instrumentDeadline(bytes), () => limitMemory(bytes, 1 << 20)]) {
      try {
        f();
      } catch (e) {
        expect(isRuntimeError(e), String(e)).toBe(true);
      }
    }
  });

  it('every C fixture of the repo instruments to a valid module', () => {
    const dir = new URL('../../tests/fixtures/wasi/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const wasm = new Uint8Array(readFileSync(new URL(f, dir)));
      expect(WebAssembly.validate(instrumentDeadline(wasm)), f).toBe(true);
    }
  });
});
