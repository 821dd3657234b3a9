// A component at its deadline: a metered core module that spins in a catch_all cannot catch the
// trap, and one that catches the deadline a host sleep throws and returns still ends as stopped
// (124), as a core module's run does (run-program.ts).
// The component is a stand-in made here: glue in the shape jco writes (an `instantiate` that gets
// its core module and instantiates it through the runtime's hooks), over one hand-written module.
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded } from '../core/index.ts';
import { MemTree } from '../vfs/index.ts';
import { runComponent } from './run-component.ts';
import { loadTranspiled, type TranspiledComponent } from './transpile.ts';

const glue = `export async function instantiate(getCoreModule, imports, instantiateCore) {
  const instance = await instantiateCore(await getCoreModule('core.wasm'), {});
  return { 'wasi:cli/run@0.2.0': { run: () => { instance.exports.run(); } } };
}`;

/** A core module exporting run: () -> () with `body` as its code. */
function core(body: number[]): Uint8Array {
  const code = [0x00, ...body, 0x0b];
  return Uint8Array.from([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...[1, 4, 1, 0x60, 0, 0],
    ...[3, 2, 1, 0],
    ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 0],
    ...[10, code.length + 2, 1, code.length, ...code],
  ]);
}

const component = (body: number[]): TranspiledComponent => ({
  glue,
  modules: { 'core.wasm': core(body) },
  imports: [],
  exports: ['wasi:cli/run'],
});

// try (loop (br 0)) catch_all end: spins until the deadline's exception, then swallows it
const SWALLOW = [0x06, 0x40, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x19, 0x0b];

/** Runs `t` (metered unless `meter` is false) with a deadline 30 ms away. */
const runWithDeadline = (t: TranspiledComponent, meter = true) =>
  runComponent(loadTranspiled(t, { meter }), {
    args: ['guest'],
    env: {},
    root: new MemTree().createRoot(),
    deadlineAt: performance.now() + 30,
  });

const run = (body: number[]) => runWithDeadline(component(body));

describe('a metered component and a deadline its core module catches', () => {
  it('ends as stopped at the deadline', async () => {
    const r = await run(SWALLOW);
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
    expect(r.error).toBeInstanceOf(DeadlineExceeded);
  });

  it('one that returns in time exits 0', async () => {
    expect(await run([0x01])).toEqual({ exitCode: 0 });
  });

  it('a spinning one ends when its run is stopped (Ctrl-C where terminate cannot stop wasm)', async () => {
    const spin = [0x03, 0x40, 0x0c, 0, 0x0b];
    let asked = 0;
    const r = await runComponent(loadTranspiled(component(spin), { meter: true }), {
      args: ['guest'],
      env: {},
      root: new MemTree().createRoot(),
      stopped: () => ++asked > 3,
      // Only so that a regression (stopped never asked) fails in 5 s instead of hanging the suite.
      deadlineAt: performance.now() + 5000,
    });
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
    expect(asked).toBe(4);
  });

  it('host work counts: a loop of 8 MiB getRandomBytes stops at its deadline', async () => {
    // run: loop { host.rand() }, rand = getRandomBytes(8 MiB). One charge per turn: unmetered host
    // work would run 65,536 turns (minutes) before a tick; the glue gives up after 200 as a bound.
    const glue = `export async function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {
  const random = imports['wasi:random/random'];
  let calls = 0;
  const host = { rand: () => { if (++calls > 200) throw new Error('ran on past 200 calls'); random.getRandomBytes(8388608n); } };
  const instance = await instantiateCore(await getCoreModule('core.wasm'), { host });
  return { 'wasi:cli/run@0.2.0': { run: () => { instance.exports.run(); } } };
}`;
    const body = [0x00, 0x03, 0x40, 0x10, 0x00, 0x0c, 0, 0x0b, 0x0b];
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0],
      ...[2, 13, 1, 4, 0x68, 0x6f, 0x73, 0x74, 4, 0x72, 0x61, 0x6e, 0x64, 0x00, 0], // host.rand
      ...[3, 2, 1, 0],
      ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 1],
      ...[10, body.length + 2, 1, body.length, ...body],
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    const t = { glue, modules: { 'core.wasm': wasm }, imports: ['wasi:random/random'], exports: ['wasi:cli/run'] };
    const r = await runWithDeadline(t);
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
  });

  it('a core start function that spins meets its deadline in instantiate: 124, not a failure to start', async () => {
    // func 0 = loop (br 0), the start function; func 1 = run, empty
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0],
      ...[3, 3, 2, 0, 0],
      ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 1],
      ...[8, 1, 0],
      ...[10, 12, 2, 7, 0x00, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b, 2, 0x00, 0x0b],
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    const t = { glue, modules: { 'core.wasm': wasm }, imports: [], exports: ['wasi:cli/run'] };
    const r = await runWithDeadline(t);
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
  });

  it('one that catches the deadline a host sleep throws and returns ends as stopped (metered or not)', async () => {
    // The glue gives the core module a sleep of 10 s through wasi:clocks (a pollable's block);
    // the module's run is try { sleep() } catch_all {}.
    const sleeper = `export async function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {
  const clock = imports['wasi:clocks/monotonic-clock'];
  const host = { sleep: () => clock.subscribeDuration(10_000_000_000n).block() };
  const instance = await instantiateCore(await getCoreModule('core.wasm'), { host });
  return { 'wasi:cli/run@0.2.0': { run: () => { instance.exports.run(); } } };
}`;
    const body = [0x00, 0x06, 0x40, 0x10, 0x00, 0x19, 0x0b, 0x0b];
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0],
      ...[2, 14, 1, 4, 0x68, 0x6f, 0x73, 0x74, 5, 0x73, 0x6c, 0x65, 0x65, 0x70, 0x00, 0], // host.sleep
      ...[3, 2, 1, 0],
      ...[7, 7, 1, 3, 0x72, 0x75, 0x6e, 0, 1],
      ...[10, body.length + 2, 1, body.length, ...body],
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    for (const meter of [false, true]) {
      const t = {
        glue: sleeper,
        modules: { 'core.wasm': wasm },
        imports: ['wasi:clocks/monotonic-clock'],
        exports: ['wasi:cli/run'],
      };
      const t0 = performance.now();
      const r = await runWithDeadline(t, meter);
      expect(r, meter ? 'metered' : 'plain').toMatchObject({ exitCode: 124, deadline: true });
      expect(r.error).toBeInstanceOf(DeadlineExceeded);
      expect(performance.now() - t0).toBeLessThan(5000); // the sleep ended at the deadline, not after 10 s
    }
  });
});
