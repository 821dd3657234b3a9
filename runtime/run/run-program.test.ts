// runProgram's account of a deadline: a metered guest cannot catch the trap at its deadline, and a
// guest that catches the exception a WASI sleep throws at its deadline (catch_all) and then returns
// or exits still ends as stopped at its deadline (exit 124).
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded } from '../core/index.ts';
import { MemTree } from '../vfs/index.ts';
import { instrumentDeadline } from '../wasm/index.ts';
import { runProgram } from './run-program.ts';

/** A WASI command whose _start runs `body` (type () -> (), no locals), with a memory exported. */
function command(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b];
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const exports = [2, ...name('_start'), 0x00, 0, ...name('memory'), 0x02, 0];
  return Uint8Array.from([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...[1, 4, 1, 0x60, 0, 0],
    ...[3, 2, 1, 0],
    ...[5, 3, 1, 0x00, 1],
    ...[7, exports.length, ...exports],
    ...[10, code.length + 2, 1, code.length, ...code],
  ]);
}

// try (loop (br 0)) catch_all end: spins until the deadline's exception, then swallows it
const SWALLOW = [0x06, 0x40, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x19, 0x0b];

async function run(wasm: Uint8Array<ArrayBuffer>, metered = true) {
  expect(WebAssembly.validate(wasm)).toBe(true);
  const module = await WebAssembly.compile(metered ? instrumentDeadline(wasm) : wasm);
  return runProgram({
    module,
    root: new MemTree().createRoot(),
    args: ['guest'],
    env: {},
    deadlineAt: performance.now() + 30,
  });
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

  it('a guest that returns in time exits 0', async () => {
    const r = await run(command([0x01])); // nop
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.deadline).toBeUndefined();
  });
});
