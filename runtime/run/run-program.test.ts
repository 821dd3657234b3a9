// runProgram's account of a deadline: a metered guest cannot catch the trap at its deadline, and a
// guest that catches the exception a WASI sleep throws at its deadline (catch_all) and then returns
// or exits still ends as stopped at its deadline (exit 124).
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded } from '../core/index.ts';
import { MemTree } from '../vfs/index.ts';
import { encodeU32, instrumentDeadline } from '../wasm/index.ts';
import { oneFunction } from '../../tests/support/wasm-modules.ts';
import { runProgram, type RunSpec } from './run-program.ts';

/** A WASI command whose _start runs `body` (type () -> (), no locals), with a memory exported. */
const command = (body: number[]) => oneFunction(body, { func: '_start', memory: 'memory' });

// try (loop (br 0)) catch_all end: spins until the deadline's exception, then swallows it
const SWALLOW = [0x06, 0x40, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x19, 0x0b];

async function run(wasm: Uint8Array<ArrayBuffer>, metered = true, extra: Partial<RunSpec> = {}) {
  expect(WebAssembly.validate(wasm)).toBe(true);
  const module = await WebAssembly.compile(metered ? instrumentDeadline(wasm) : wasm);
  return runProgram({
    module,
    root: new MemTree().createRoot(),
    args: ['guest'],
    env: {},
    deadlineAt: performance.now() + 30,
    ...extra,
  });
}

/**
 * A WASI command importing poll_oneoff (func 0), fd_write (func 1) and proc_exit (func 2), whose
 * _start (func 3, no locals) runs `body`, with a 1-page memory exported.
 */
function wasiCommand(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b];
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const wasi = name('wasi_snapshot_preview1');
  const imports = [
    ...[3, ...wasi, ...name('poll_oneoff'), 0x00, 1, ...wasi, ...name('fd_write'), 0x00, 1],
    ...[...wasi, ...name('proc_exit'), 0x00, 2],
  ];
  const exports = [2, ...name('_start'), 0x00, 3, ...name('memory'), 0x02, 0];
  const types = [3, 0x60, 0, 0, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f, 0x60, 1, 0x7f, 0];
  return Uint8Array.from([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...[1, types.length, ...types],
    ...[2, ...encodeU32(imports.length), ...imports],
    ...[3, 2, 1, 0],
    ...[5, 3, 1, 0x00, 1],
    ...[7, exports.length, ...exports],
    ...[10, ...encodeU32(code.length + 1 + encodeU32(code.length).length), 1, ...encodeU32(code.length), ...code],
  ]);
}

describe('runProgram and a deadline the guest catches', () => {
  it('a guest that catches its deadline and returns ends as stopped at the deadline', async () => {
    const r = await run(command(SWALLOW));
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
    expect(r.error).toBeInstanceOf(DeadlineExceeded);
  });

  it('a guest that catches the deadline a WASI sleep throws and exits 0 ends as stopped (metered or not)', async () => {
    // _start: m[16] = 1 (clock: monotonic); m[24] = 2^31-1 ns (2.1 s); try { poll_oneoff(0, 64, 1,
    // 128) } catch_all {}; proc_exit(0). The sleep ends at the 30 ms deadline with DeadlineExceeded.
    const body = [
      ...[0x41, 16, 0x41, 1, 0x36, 2, 0],
      ...[0x41, 24, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0xad, 0x37, 3, 0],
      ...[0x06, 0x40, 0x41, 0, 0x41, 0xc0, 0, 0x41, 1, 0x41, 0x80, 1, 0x10, 0, 0x1a, 0x19, 0x0b],
      ...[0x41, 0, 0x10, 1],
    ];
    const code = [0x00, ...body, 0x0b];
    const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
    const wasi = name('wasi_snapshot_preview1');
    const imports = [2, ...wasi, ...name('poll_oneoff'), 0x00, 1, ...wasi, ...name('proc_exit'), 0x00, 2];
    const exports = [2, ...name('_start'), 0x00, 2, ...name('memory'), 0x02, 0];
    const types = [3, 0x60, 0, 0, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f, 0x60, 1, 0x7f, 0];
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, types.length, ...types],
      ...[2, imports.length, ...imports],
      ...[3, 2, 1, 0],
      ...[5, 3, 1, 0x00, 1],
      ...[7, exports.length, ...exports],
      ...[10, code.length + 2, 1, code.length, ...code],
    ]);
    for (const metered of [false, true]) {
      const t0 = performance.now();
      const r = await run(wasm, metered);
      expect(r, metered ? 'metered' : 'plain').toMatchObject({ exitCode: 124, deadline: true });
      expect(r.error).toBeInstanceOf(DeadlineExceeded);
      expect(performance.now() - t0).toBeLessThan(2000); // the sleep ended at the deadline, not after 2.1 s
    }
  });

  it('a guest that catches each deadline a sleep throws, in a loop, runs on to its next charge only', async () => {
    // _start: iovec {16, 1} at 0, "x" at 16, a 1 ms monotonic clock subscription at 64; then
    // loop { try { poll_oneoff(64, 128, 1, 200) } catch_all { fd_write(1, 0, 1, 8) } }. Past the
    // deadline every sleep throws at once: with the fuel left to spend, the guest would catch
    // about 30,000 of them (one "x" each) before a tick; its fuel is spent at the first.
    const body = [
      ...[0x41, 0, 0x41, 16, 0x36, 2, 0, 0x41, 4, 0x41, 1, 0x36, 2, 0, 0x41, 16, 0x41, 0xf8, 0, 0x3a, 0, 0],
      ...[0x41, 0xd0, 0, 0x41, 1, 0x36, 2, 0, 0x41, 0xd8, 0, 0x42, 0xc0, 0x84, 0x3d, 0x37, 3, 0],
      ...[0x03, 0x40, 0x06, 0x40],
      ...[0x41, 0xc0, 0, 0x41, 0x80, 1, 0x41, 1, 0x41, 0xc8, 1, 0x10, 0, 0x1a],
      ...[0x19, 0x41, 1, 0x41, 0, 0x41, 1, 0x41, 8, 0x10, 1, 0x1a, 0x0b],
      ...[0x0c, 0, 0x0b],
    ];
    const out: Uint8Array[] = [];
    const r = await run(wasiCommand(body), true, { stdout: (c) => out.push(c) });
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
    const caught = out.reduce((n, c) => n + c.length, 0);
    expect(caught).toBeGreaterThanOrEqual(1); // it did catch one
    expect(caught).toBeLessThanOrEqual(2);
  });

  it('a start function that spins meets its deadline in instantiate: 124, not a failure to start', async () => {
    // (start $spin): func 0 = loop (br 0); func 1 = _start, empty
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0],
      ...[3, 3, 2, 0, 0],
      ...[5, 3, 1, 0x00, 1],
      ...[7, 19, 2, 6, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 1, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0],
      ...[8, 1, 0],
      ...[10, 12, 2, 7, 0x00, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b, 2, 0x00, 0x0b],
    ]);
    const r = await run(wasm);
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
    expect(r.error).toBeInstanceOf(DeadlineExceeded);
  });

  it('host work counts: a loop of 8 MiB random_gets stops at its deadline, not after fuel x 8 MiB', async () => {
    // _start: loop { random_get(0, 8 MiB); br 0 } over 16 MiB of memory. Each turn is one charge;
    // metered at a first fuel of 100 so that, were the host's work not metered, the run would still
    // end after 100 calls (at the default fuel: 65,536 of them, minutes).
    const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
    const imports = [1, ...name('wasi_snapshot_preview1'), ...name('random_get'), 0x00, 1];
    const exports = [2, ...name('_start'), 0x00, 1, ...name('memory'), 0x02, 0];
    const code = [0x00, 0x03, 0x40, 0x41, 0, 0x41, 0x80, 0x80, 0x80, 0x04, 0x10, 0, 0x1a, 0x0c, 0, 0x0b, 0x0b];
    const wasm = Uint8Array.from([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 10, 2, 0x60, 0, 0, 0x60, 2, 0x7f, 0x7f, 1, 0x7f],
      ...[2, imports.length, ...imports],
      ...[3, 2, 1, 0],
      ...[5, 4, 1, 0x00, 0x80, 2],
      ...[7, exports.length, ...exports],
      ...[10, code.length + 2, 1, code.length, ...code],
    ]);
    expect(WebAssembly.validate(wasm)).toBe(true);
    let calls = 0;
    const r = await runProgram({
      module: await WebAssembly.compile(instrumentDeadline(wasm, { fuel: 100 })),
      root: new MemTree().createRoot(),
      args: ['guest'],
      env: {},
      deadlineAt: performance.now() + 30,
      trace: (line) => void (line.startsWith('random_get') && calls++),
    });
    expect(r).toMatchObject({ exitCode: 124, deadline: true });
    // 8 MiB of random bytes take milliseconds: a few calls fit in 30 ms, not 100.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(50);
  });

  it('a guest that returns in time exits 0', async () => {
    const r = await run(command([0x01])); // nop
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.deadline).toBeUndefined();
  });
});
