// runProgram's account of a deadline: a metered guest that catches the deadline's exception
// (catch_all) and returns, or exits, still ends as stopped at its deadline (exit 124).
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

async function run(wasm: Uint8Array<ArrayBuffer>) {
  expect(WebAssembly.validate(wasm)).toBe(true);
  const module = await WebAssembly.compile(instrumentDeadline(wasm));
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

  it('a guest that returns in time exits 0', async () => {
    const r = await run(command([0x01])); // nop
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.deadline).toBeUndefined();
  });
});
