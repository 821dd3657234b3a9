// The deadline rewrite: instrumented modules validate and behave exactly like the originals (same
// stdout, stderr, exit code and syscall trace through berth's broker), runaway programs stop with
// DeadlineExceeded, and malformed input is refused with invalid-argument.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRuntimeError } from '../core/index.ts';
import { MemTree } from '../vfs/index.ts';
import { Wasi, type WasiOptions } from '../wasi/index.ts';
import {
  DeadlineExceeded,
  deadlineImports,
  FUEL_EXPORT,
  instrumentDeadline,
  MAX_CATCHES,
  spendFuel,
  STRETCH,
} from './instrument-deadline.ts';
import { oneFunction } from '../../tests/support/wasm-modules.ts';
import { encodeU32, readSections, WasmReader } from './wasm-binary-reader.ts';
import { skipImmediates, skipValType } from './wasm-binary-instructions.ts';

const fixtures = new URL('../../tests/fixtures/', import.meta.url);
const read = (rel: string) => new Uint8Array(readFileSync(new URL(rel, fixtures)));
const dec = new TextDecoder();

interface Outcome {
  code: number | string;
  stdout: string;
  stderr: string;
  trace: string[];
}

/** Runs a module through the broker over fresh in-memory dirs, with deterministic clocks and randomness. */
function run(wasm: Uint8Array<ArrayBuffer>, options: WasiOptions, extra: WebAssembly.Imports = {}): Outcome {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const trace: string[] = [];
  let tick = 0n;
  const wasi = new Wasi({
    preopens: [
      { guestPath: '/', dir: new MemTree().createRoot() },
      { guestPath: '/data', dir: new MemTree().createRoot() },
    ],
    now: () => 1_700_000_000_000_000_000n + (tick += 1_000_000n),
    monotonic: () => (tick += 1_000_000n),
    randomFill: (b) => b.forEach((_, i) => (b[i] = (i * 7 + 3) & 0xff)),
    ...options,
    stdout: (c) => out.push(c),
    stderr: (c) => err.push(c),
    trace: (l) => trace.push(l),
  });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), { ...wasi.imports, ...extra });
  let code: number | string;
  try {
    code = wasi.start(instance);
  } catch (e) {
    code = e instanceof WebAssembly.RuntimeError ? `trap: ${e.message}` : `throw: ${String(e)}`;
  }
  const text = (cs: Uint8Array[]) => cs.map((c) => dec.decode(c, { stream: true })).join('');
  return { code, stdout: text(out), stderr: text(err), trace };
}

/** A deadline far enough to never matter, yet finite: a broken rewrite that loops forever fails instead of hanging the suite. */
const in10s = () => {
  const d = performance.now() + 10_000;
  return () => d;
};
const request = new TextEncoder().encode('GET /svc/x/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
/** Arguments that keep the slow fixtures short; the rest get their defaults. */
const ARGS: Record<string, string[]> = {
  'bench-compute': ['x', '1', '2'],
  'bench-files': ['x', '200'],
  'bench-writes': ['x'],
  'readdir-big': ['x', '300', '40'],
  'exit-code': ['x', '42'],
  'args-env': ['prog', 'one', 'two words'],
};

const wasiFixtures = readdirSync(new URL('wasi/', fixtures))
  // foreign-import.wasm imports what no host gives (it exists to be refused before it runs).
  .filter((f) => f.endsWith('.wasm') && f !== 'foreign-import.wasm')
  .map((f) => `wasi/${f}`);
const allModules = [
  ...wasiFixtures,
  '../../examples/hello-web-db/hello-web-db.wasm',
  'deadline/busy.wasm',
  'deadline/features.wasm',
];

interface Runaway {
  /** A fixture run through the broker's _start, or module bytes whose export `call` is called. */
  rel?: string;
  args?: string[];
  bytes?: Uint8Array;
  call?: string;
  fuel?: number;
  deadlineIn: number;
}

/**
 * Runs an instrumented guest that would never stop if the instrumentation were wrong. No timeout
 * can preempt synchronous wasm, so it runs in a child Node, killed after 20 s: a regression fails
 * the test instead of hanging the whole suite.
 */
function runaway(spec: Runaway): { error: string; trap?: boolean; code?: string; late: number; stack?: string } {
  const here = (f: string) => JSON.stringify(new URL(f, import.meta.url).href);
  const script = `
    import { readFileSync } from 'node:fs';
    import { Wasi } from ${here('../wasi/index.ts')};
    import { deadlineImports, instrumentDeadline } from ${here('./instrument-deadline.ts')};
    const spec = JSON.parse(process.argv[1]);
    const source = spec.rel ? readFileSync(new URL(spec.rel, spec.fixtures)) : Buffer.from(spec.bytes, 'base64');
    const wasm = instrumentDeadline(new Uint8Array(source), { fuel: spec.fuel });
    let exceeded;
    const deadlines = deadlineImports(() => deadline, { fuel: spec.fuel, onExceeded: (e) => (exceeded = e) });
    const wasi = new Wasi({ args: spec.args ?? [], stdout: () => {} });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), { ...wasi.imports, ...deadlines });
    const deadline = performance.now() + spec.deadlineIn;
    try {
      if (spec.call) instance.exports[spec.call](); else wasi.start(instance);
      console.log(JSON.stringify({ error: 'none', late: 0 }));
    } catch (e) {
      // The check traps (uncatchable by the guest) once tick has told the deadline.
      const trap = e instanceof WebAssembly.RuntimeError;
      const error = trap && exceeded ? exceeded.name : e.name;
      console.log(JSON.stringify({ error, trap, code: exceeded?.code, late: performance.now() - deadline, stack: String(e.stack) }));
    }`;
  const arg = JSON.stringify({
    ...spec,
    bytes: spec.bytes && Buffer.from(spec.bytes).toString('base64'),
    fixtures: fixtures.href,
  });
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, arg], {
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
  if (child.signal) return { error: `killed (${child.signal}): it did not stop`, late: Infinity };
  const last = child.stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{')) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(last);
}

describe('instrumentDeadline keeps behaviour', () => {
  for (const rel of allModules) {
    const name = rel.replace(/^.*\/|\.wasm$/g, '');
    it(`${name}: validates and runs the same`, () => {
      const original = read(rel);
      const instrumented = instrumentDeadline(original, { fuel: 1000 });
      expect(WebAssembly.validate(instrumented)).toBe(true);
      const options: WasiOptions = { args: ARGS[name] ?? [name], env: { HOME: '/home/x' }, stdin: request };
      const a = run(original, options);
      const b = run(instrumented, options, deadlineImports(in10s(), { fuel: 1000 }));
      expect(b).toEqual(a);
      expect(String(a.code)).not.toMatch(/^throw/);
    });
  }

  it('features: br_table, call_indirect, bulk memory and SIMD are really there, and the output is right', () => {
    const wasm = read('deadline/features.wasm');
    const ops = opcodeCensus(wasm);
    expect(ops.get('0e')).toBeGreaterThan(0); // br_table
    expect(ops.get('11')).toBeGreaterThan(0); // call_indirect
    expect(ops.get('fc:10')).toBeGreaterThan(0); // memory.copy
    expect([...ops.keys()].filter((k) => k.startsWith('fd:')).length).toBeGreaterThan(5); // SIMD
    const r = run(instrumentDeadline(wasm), {}, deadlineImports(in10s()));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('zero seven four one many five two many six three\n');
    expect(r.stdout).toContain('fib 196418\n');
  });

  it('adds one check per loop and per function, and nothing else', () => {
    const wasm = read('deadline/busy.wasm');
    const before = opcodeCensus(wasm);
    // (stretch: Infinity: no checks for long stretches, see the tests of that below)
    const after = opcodeCensus(instrumentDeadline(wasm, { stretch: Infinity }));
    const functions = functionSummaries(wasm).length;
    const loops = before.get('03') ?? 0;
    // call $tick: once per function entry and once per (hoisted) loop
    expect(after.get('10')).toBe((before.get('10') ?? 0) + functions + loops);
    expect(after.get('11')).toBe(before.get('11'));
    // + block $done, loop $outer, block $tick around each loop; the if only at entries
    expect(after.get('03')).toBe(2 * loops);
    expect(after.get('02')).toBe((before.get('02') ?? 0) + 2 * loops);
    expect(after.get('04')).toBe((before.get('04') ?? 0) + functions);
    // a new scratch local only where there is a loop to check
    const locals = (m: Uint8Array) => functionSummaries(m).map((f) => f.localGroups);
    const expected = functionSummaries(wasm).map((f) => f.localGroups + (f.loops ? 1 : 0));
    expect(locals(instrumentDeadline(wasm))).toEqual(expected);
  });

  it('checks the deadline before every memory.copy and memory.fill', () => {
    const wasm = read('deadline/features.wasm');
    const before = opcodeCensus(wasm);
    const bulk = (before.get('fc:10') ?? 0) + (before.get('fc:11') ?? 0);
    expect(bulk).toBeGreaterThan(0);
    const after = opcodeCensus(instrumentDeadline(wasm, { stretch: Infinity }));
    const functions = functionSummaries(wasm).length;
    const loops = before.get('03') ?? 0;
    expect(after.get('10')).toBe((before.get('10') ?? 0) + functions + loops + bulk);
  });

  it('keeps behaviour with fuel small enough to tick often', () => {
    for (const rel of ['deadline/features.wasm', 'wasi/fs-ops.wasm', 'wasi/bench-compute.wasm']) {
      const options: WasiOptions = { args: ['x', '1', '1'] };
      const original = run(read(rel), options);
      const wasm = instrumentDeadline(read(rel), { fuel: 7 });
      expect(run(wasm, options, deadlineImports(in10s(), { fuel: 7 }))).toEqual(original);
    }
  });

  it('refuses an invalid module that would become valid by writing the fuel global', () => {
    // global.set 0 with no global: invalid as given; after a rewrite, global 0 would be the fuel.
    const invalid = Uint8Array.from([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],
      ...[0x03, 0x02, 0x01, 0x00],
      ...[0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0x24, 0x00, 0x0b],
    ]);
    expect(WebAssembly.validate(invalid)).toBe(false);
    expect(() => instrumentDeadline(invalid)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('keeps a name section, shifted, and refuses a module instrumented twice', () => {
    const once = instrumentDeadline(read('deadline/spin-names.wasm'));
    expect(WebAssembly.Module.customSections(new WebAssembly.Module(once), 'name').length).toBe(1);
    const r = runaway({ rel: 'deadline/spin-names.wasm', args: ['spin'], deadlineIn: 0 });
    expect(r.error).toBe('DeadlineExceeded');
    // The engine names wasm frames from the name section: a wrong shift would name a neighbour.
    expect(r.stack).toMatch(/at (__original_)?main \(wasm:/);
    expect(r.stack).toMatch(/at _start \(wasm:/);
    expect(() => instrumentDeadline(once)).toThrow(expect.objectContaining({ code: 'failed-precondition' }));
  });

  it('instruments a module without imports, types or globals (sections are created in order)', () => {
    // (module (func (export "f") (result i32) (loop) i32.const 7))
    const wasm = Uint8Array.from([
      0,
      0x61,
      0x73,
      0x6d,
      1,
      0,
      0,
      0,
      1,
      5,
      1,
      0x60,
      0,
      1,
      0x7f, // type: () -> i32
      3,
      2,
      1,
      0, // func
      7,
      5,
      1,
      1,
      0x66,
      0,
      0, // export "f" = func 0
      10,
      9,
      1,
      7,
      0,
      0x03,
      0x40,
      0x0b,
      0x41,
      7,
      0x0b, // code
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    const out = instrumentDeadline(wasm);
    expect(WebAssembly.validate(out)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(out), deadlineImports(in10s()));
    expect((inst.exports.f as () => number)()).toBe(7);
    const bare = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(WebAssembly.validate(instrumentDeadline(bare))).toBe(true);
    // The fuel global is exported (an export section is made where there was none), for spendFuel.
    for (const m of [out, instrumentDeadline(bare)]) {
      expect(WebAssembly.Module.exports(new WebAssembly.Module(m))).toContainEqual({
        name: FUEL_EXPORT,
        kind: 'global',
      });
    }
  });

  it('spendFuel makes the next charge tick; a module that exports the fuel name is refused', () => {
    // f: loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))) with a parameter n
    const body = [0x00, 0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x0b];
    const wasm = (exportName: string) => {
      const name = [exportName.length, ...new TextEncoder().encode(exportName)];
      return Uint8Array.from([
        ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
        ...[1, 5, 1, 0x60, 1, 0x7f, 0],
        ...[3, 2, 1, 0],
        ...[7, name.length + 3, 1, ...name, 0x00, 0],
        ...[10, body.length + 2, 1, body.length, ...body],
      ]);
    };
    let ticks = 0;
    const imports = deadlineImports(in10s(), { fuel: 1000, now: () => (ticks++, performance.now()) });
    const instance = new WebAssembly.Instance(
      new WebAssembly.Module(instrumentDeadline(wasm('f'), { fuel: 1000 })),
      imports,
    );
    const f = instance.exports.f as (n: number) => void;
    f(10);
    expect(ticks).toBe(0);
    spendFuel(instance);
    f(1);
    expect(ticks).toBe(1);
    expect(() => instrumentDeadline(wasm(FUEL_EXPORT))).toThrow(
      expect.objectContaining({ code: 'failed-precondition' }),
    );
  });
});

describe('deadline', () => {
  function expectStops(rel: string, args: string[], fuel: number) {
    const r = runaway({ rel, args, fuel, deadlineIn: 100 });
    expect(r).toMatchObject({ error: 'DeadlineExceeded', trap: true, code: 'deadline-exceeded' });
    expect(r.late).toBeGreaterThanOrEqual(0);
    console.log(`${rel} fuel ${fuel}: stopped ${r.late.toFixed(2)} ms after the deadline`);
  }

  it('stops an infinite loop', () => expectStops('deadline/spin.wasm', ['spin', 'print'], 65_536));
  it('stops an infinite loop with fuel 1', () => expectStops('deadline/spin.wasm', ['spin'], 1));
  it('stops deep recursion that has no loop', () => expectStops('deadline/recurse.wasm', ['recurse', '60'], 65_536));

  it('lets a program that finishes in time finish, and the tick sees the fuel run out', () => {
    let ticks = 0;
    const imports = deadlineImports(in10s(), { fuel: 1000, now: () => (ticks++, performance.now()) });
    const r = run(
      instrumentDeadline(read('deadline/busy.wasm'), { fuel: 1000 }),
      { args: ['busy', '1000000'] },
      imports,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^busy 1000000 [0-9a-f]{8}\n$/);
    expect(ticks).toBeGreaterThan(50); // 10^6 iterations / fuel 1000, over clang's 8x unrolling
  });

  it('tick tells the deadline once and returns 0 from then on, even if the deadline moves', () => {
    const told: DeadlineExceeded[] = [];
    let deadline = 10;
    const { tick } = deadlineImports(() => deadline, {
      fuel: 7,
      now: () => 11,
      onExceeded: (e) => told.push(e),
    }).berth_deadline;
    expect(tick()).toBe(0);
    deadline = 100;
    expect(tick()).toBe(0);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ deadlineMs: 10, nowMs: 11 });
    const inTime = deadlineImports(() => 12, {
      fuel: 7,
      now: () => 11,
      onExceeded: (e) => told.push(e),
    }).berth_deadline;
    expect(inTime.tick()).toBe(7);
    expect(told).toHaveLength(1);
  });

  it('a guest that catches the exception (catch_all) and loops on is stopped anyway', () => {
    // (func (export "f") (loop (try (do (loop (br 0))) (catch_all)) (br 0)))  -- legacy EH
    const body = [0x00, 0x03, 0x40, 0x06, 0x40, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x19, 0x0b, 0x0c, 0x00, 0x0b, 0x0b];
    const bytes = Uint8Array.from([
      0,
      0x61,
      0x73,
      0x6d,
      1,
      0,
      0,
      0,
      1,
      4,
      1,
      0x60,
      0,
      0, // type () -> ()
      3,
      2,
      1,
      0,
      7,
      5,
      1,
      1,
      0x66,
      0,
      0, // export "f"
      10,
      body.length + 2,
      1,
      body.length,
      ...body,
    ]);
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(runaway({ bytes, call: 'f', fuel: 100, deadlineIn: 20 })).toMatchObject({
      error: 'DeadlineExceeded',
      trap: true,
    });
  });

  it('no catch_all handler of the guest runs once its deadline has passed: the check traps', () => {
    // f: try { try { try { spin } catch_all { m[0]++; spin } } catch_all { m[0]++; spin } }
    // catch_all { m[0]++; spin }, spin = (loop (br 0)). Were the deadline an exception thrown by
    // tick, each handler would catch it and run to its next charge (m[0] = 3 at the end).
    const inc = [0x41, 0, 0x41, 0, 0x28, 2, 0, 0x41, 1, 0x6a, 0x36, 2, 0];
    const spin = [0x03, 0x40, 0x0c, 0, 0x0b];
    const handler = [0x19, ...inc, ...spin, 0x0b];
    const body = [...[0x06, 0x40, 0x06, 0x40, 0x06, 0x40], ...spin, ...handler, ...handler, ...handler];
    const wasm = oneFunction(body, { func: 'f', memory: 'm' });
    expect(WebAssembly.validate(wasm)).toBe(true);
    let exceeded: DeadlineExceeded | undefined;
    const imports = deadlineImports(() => 0, { fuel: 100, onExceeded: (e) => (exceeded = e) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumentDeadline(wasm, { fuel: 100 })), imports);
    expect(instance.exports.f as () => void).toThrow(WebAssembly.RuntimeError);
    expect(exceeded).toBeInstanceOf(DeadlineExceeded);
    expect(new Int32Array((instance.exports.m as WebAssembly.Memory).buffer)[0]).toBe(0);
  });

  it('charges every function entry: a call-free leaf called many times from one body is counted each time', () => {
    // L(x) = x + 1 (no loop, no call); C(x) = L(L(...L(x))) 50 calls in one straight-line body;
    // run() = C(0). Charging only functions that call would give C one charge for 50 calls' work
    // (a hostile module made of such fan-outs ran 74 minutes per tick at the default fuel).
    const calls = Array.from({ length: 50 }, () => [0x10, 0]).flat();
    const bodies = [
      [0x00, 0x20, 0, 0x41, 1, 0x6a, 0x0b],
      [0x00, 0x20, 0, ...calls, 0x0b],
      [0x00, 0x41, 0, 0x10, 1, 0x0b],
    ];
    const code = [bodies.length, ...bodies.flatMap((b) => [b.length, ...b])];
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 10, 2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f],
      ...[3, 4, 3, 0, 0, 1],
      ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 2],
      ...[10, code.length, ...code],
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    let ticks = 0;
    const imports = deadlineImports(in10s(), { fuel: 10, now: () => (ticks++, performance.now()) });
    const metered = instrumentDeadline(wasm, { fuel: 10 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(metered), imports);
    expect((instance.exports.run as () => number)()).toBe(50);
    // 52 entries at fuel 10: ticks at the 11th, 21st, 31st, 41st and 51st
    expect(ticks).toBe(5);
  });

  it('checks the deadline before every bulk instruction whose work grows with an operand', () => {
    // run(n): loop { table.fill 1000 entries; table.copy 1000; table.grow 1; memory.init 16 bytes;
    // n -= 1; br_if n }. Each is one instruction, charged once with the loop turn, but does work in
    // proportion to its length: with the deadline already passed and fuel to spare, the first of
    // them must stop the run.
    const k1000 = [0x41, 0xe8, 0x07];
    const loop = [
      ...[0x03, 0x40],
      ...[0x41, 0, 0xd0, 0x70, ...k1000, 0xfc, 17, 0], // table.fill 0
      ...[0x41, 0, 0x41, 0, ...k1000, 0xfc, 14, 0, 0], // table.copy 0 0
      ...[0xd0, 0x70, 0x41, 1, 0xfc, 15, 0, 0x1a], // table.grow 0, dropped
      ...[0x41, 0, 0x41, 0, 0x41, 16, 0xfc, 8, 0, 0], // memory.init 0 0
      ...[0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b],
    ];
    const body = [0x00, ...loop, 0x0b];
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 5, 1, 0x60, 1, 0x7f, 0],
      ...[3, 2, 1, 0],
      ...[4, 5, 1, 0x70, 0x00, 0xe8, 0x07], // table: funcref, 1000 entries
      ...[5, 3, 1, 0x00, 1], // memory: 1 page
      ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 0],
      ...[12, 1, 1], // data count
      ...[10, body.length + 2, 1, body.length, ...body],
      ...[11, 19, 1, 0x01, 16, ...Array.from({ length: 16 }, (_, i) => i)], // passive data
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    const before = opcodeCensus(wasm);
    const metered = instrumentDeadline(wasm, { fuel: 1_000_000 });
    // one tick for the function's entry, one for its loop, one before each of the 4
    expect(opcodeCensus(metered).get('10')).toBe((before.get('10') ?? 0) + 1 + 1 + 4);
    // Fuel to spare: only the ticks before the bulk instructions can see the deadline.
    let exceeded: DeadlineExceeded | undefined;
    const late = deadlineImports(() => 0, { fuel: 1_000_000, onExceeded: (e) => (exceeded = e) });
    const run = new WebAssembly.Instance(new WebAssembly.Module(metered), late).exports.run as (n: number) => void;
    expect(() => run(3)).toThrow(WebAssembly.RuntimeError);
    expect(exceeded).toBeInstanceOf(DeadlineExceeded);
    // With time left, it runs as the original does.
    const inTime = new WebAssembly.Instance(new WebAssembly.Module(metered), deadlineImports(in10s()));
    expect(() => (inTime.exports.run as (n: number) => void)(3)).not.toThrow();
  });

  describe('a long stretch of code between two checks', () => {
    // x += 1, 7 bytes: local.get 0, i32.const 1, i32.add, local.set 0
    const add = [0x20, 0, 0x41, 1, 0x6a, 0x21, 0];
    /** A module exporting run(x: i32) -> i32 with `body` (then local.get 0) as its code. */
    const module = (body: number[]) => {
      const code = [0x00, ...body, 0x20, 0, 0x0b];
      const size = encodeU32(code.length);
      const section = [1, ...size, ...code];
      return Uint8Array.from([
        ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
        ...[1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f],
        ...[3, 2, 1, 0],
        ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 0],
        ...[10, ...encodeU32(section.length), ...section],
      ]);
    };
    /** Runs run(0) at fuel 1, where every charge after the first ticks: [its result, ticks]. */
    const charges = (wasm: Uint8Array, stretch?: number) => {
      let ticks = 0;
      const imports = deadlineImports(in10s(), { fuel: 1, now: () => (ticks++, performance.now()) });
      const metered = instrumentDeadline(wasm, { fuel: 1, ...(stretch ? { stretch } : {}) });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(metered), imports);
      return [(instance.exports.run as (x: number) => number)(0), ticks];
    };

    it('a loop whose body is one straight run of 140 KB is charged every 512 bytes of it', () => {
      // loop { x += 1 (20,000 times) } once: without the bound, fuel times 140 KB before a tick
      const wasm = module([0x03, 0x40, ...Array.from({ length: 20_000 }, () => add).flat(), 0x0b]);
      expect(WebAssembly.validate(wasm)).toBe(true);
      const [result, ticks] = charges(wasm);
      expect(result).toBe(20_000);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(140_000 / (STRETCH + 7)) - 1);
      expect(charges(wasm, Number.POSITIVE_INFINITY)[1]).toBeLessThanOrEqual(1);
    });

    it('a check a path would skip (in an if arm not taken) is not counted for that path', () => {
      // 200 times: x += 1 (57 times, 399 bytes), then if (0) { x += 1 (28 times, 196 bytes) }.
      // A check every 512 bytes of the byte stream would fall in the untaken arm every time.
      const arm = [0x41, 0, 0x04, 0x40, ...Array.from({ length: 28 }, () => add).flat(), 0x0b];
      const piece = [...Array.from({ length: 57 }, () => add).flat(), ...arm];
      const wasm = module(Array.from({ length: 200 }, () => piece).flat());
      expect(WebAssembly.validate(wasm)).toBe(true);
      const [result, ticks] = charges(wasm);
      expect(result).toBe(200 * 57);
      const ran = 200 * (57 * 7 + 4);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(ran / (STRETCH + 7)) - 1);
      expect(charges(wasm, Number.POSITIVE_INFINITY)[1]).toBeLessThanOrEqual(1);
    });

    it('entering a try is charged: a throw searches the handlers of every try it is in', () => {
      // 30 nested empty tries: 31 charges with the entry, so 30 ticks at fuel 1
      const wasm = module([...Array.from({ length: 30 }, () => [0x06, 0x40]).flat(), ...Array(30).fill(0x0b)]);
      expect(WebAssembly.validate(wasm)).toBe(true);
      const [result, ticks] = charges(wasm, Number.POSITIVE_INFINITY);
      expect(result).toBe(0);
      expect(ticks).toBe(30);
    });

    it('refuses a stretch below 1', () => {
      expect(() => instrumentDeadline(module([]), { stretch: 0 })).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
    });
  });

  it('refuses a try with more catch clauses than it can charge for, and memory.atomic.wait', () => {
    // A tag of type () -> (); try ... catch $t (MAX_CATCHES + 1 times) end
    const mod = (body: number[], memory: number[] = [], tags = false) => {
      const code = [0x00, ...body, 0x0b];
      return Uint8Array.from([
        ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
        ...[1, 4, 1, 0x60, 0, 0],
        ...[3, 2, 1, 0],
        ...memory,
        ...(tags ? [13, 3, 1, 0, 0] : []),
        ...[10, ...encodeU32(code.length + 1 + encodeU32(code.length).length), 1, ...encodeU32(code.length), ...code],
      ]);
    };
    const tries = (n: number) =>
      mod([0x06, 0x40, ...Array.from({ length: n }, () => [0x07, 0]).flat(), 0x0b], [], true);
    expect(WebAssembly.validate(tries(MAX_CATCHES))).toBe(true);
    expect(WebAssembly.validate(instrumentDeadline(tries(MAX_CATCHES)))).toBe(true);
    expect(WebAssembly.validate(tries(MAX_CATCHES + 1))).toBe(true);
    expect(() => instrumentDeadline(tries(MAX_CATCHES + 1))).toThrow(/more than 64 catch clauses/);
    // (memory 1 1 shared); memory.atomic.wait32 (0, 0, -1): waits for good on a thread that may block
    const wait = mod([0x41, 0, 0x41, 0, 0x42, 0x7f, 0xfe, 0x01, 0x02, 0x00, 0x1a], [5, 4, 1, 0x03, 1, 1]);
    expect(WebAssembly.validate(wait)).toBe(true);
    expect(() => instrumentDeadline(wait)).toThrow(/memory\.atomic\.wait/);
  });

  it('refuses a fuel of 0', () => {
    expect(() => deadlineImports(in10s(), { fuel: 0 })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => instrumentDeadline(read('deadline/busy.wasm'), { fuel: 2 ** 31 })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });
});

describe('malformed input', () => {
  const wasm = read('deadline/features.wasm');
  const invalid = (bytes: Uint8Array) => {
    let caught: unknown;
    try {
      instrumentDeadline(bytes);
    } catch (e) {
      caught = e;
    }
    expect(isRuntimeError(caught, 'invalid-argument')).toBe(true);
  };
  it('bad magic', () => invalid(Uint8Array.from([1, 2, 3, 4, 1, 0, 0, 0])));
  it('bad version', () => invalid(Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])));
  it('empty', () => invalid(new Uint8Array()));
  it('truncated anywhere', () => {
    for (const cut of [9, 20, 100, wasm.length >> 1, wasm.length - 1]) invalid(wasm.subarray(0, cut));
  });
  it('a function body with a broken opcode', () => {
    const m = Uint8Array.from([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 5, 1, 3, 0, 0xff, 0x0b,
    ]);
    invalid(m);
  });
});

/** Per defined function: local groups declared, and whether the body loops or calls. */
function functionSummaries(wasm: Uint8Array): { localGroups: number; loops: boolean; calls: boolean }[] {
  const code = readSections(wasm).find((s) => s.id === 10)!;
  const r = new WasmReader(wasm, code.offset, code.offset + code.body.length);
  const out = [];
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const end = r.u32() + r.pos;
    const localGroups = r.u32();
    for (let j = 0; j < localGroups; j++) {
      r.u32();
      skipValType(r);
    }
    let loops = false;
    let calls = false;
    while (r.pos < end) {
      const op = r.byte();
      skipImmediates(r, op);
      if (op === 0x03) loops = true;
      if (op >= 0x10 && op <= 0x15) calls = true;
    }
    out.push({ localGroups, loops, calls });
  }
  return out;
}

/** Counts instructions of every function body by opcode ("0e", "fc:10", ...). */
function opcodeCensus(wasm: Uint8Array): Map<string, number> {
  const code = readSections(wasm).find((s) => s.id === 10)!;
  const r = new WasmReader(wasm, code.offset, code.offset + code.body.length);
  const counts = new Map<string, number>();
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const end = r.u32() + r.pos;
    const groups = r.u32();
    for (let j = 0; j < groups; j++) {
      r.u32();
      skipValType(r);
    }
    while (r.pos < end) {
      const op = r.byte();
      const sub = skipImmediates(r, op);
      const key = op.toString(16).padStart(2, '0') + (sub >= 0 ? `:${sub}` : '');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
