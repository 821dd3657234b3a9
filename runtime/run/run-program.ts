// One run = one fresh instance of a compiled module over a root filesystem, through berth's WASI broker.
import type { FsDir } from '../core/index.ts';
import { ProcExit, Wasi } from '../wasi/index.ts';
import { DeadlineExceeded } from '../core/index.ts';
import { DeadlineImport, deadlineImports } from '../wasm/instrument-deadline.ts';

export interface RunSpec {
  module: WebAssembly.Module;
  root: FsDir;
  args: string[];
  env: Record<string, string>;
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  trace?: (line: string) => void;
  /** Cap on the instance's linear memory, checked by the broker when a syscall finds it grew (the program then traps). */
  maxMemoryBytes?: number;
  /** Wall-clock deadline (performance.now() clock): metered modules stop there, and sleeps never pass it. */
  deadlineAt?: number;
}

export interface RunResult {
  exitCode: number;
  /** Set when the program trapped (or the host failed mid-run) instead of exiting. */
  error?: Error;
  /** The program was stopped at its deadline (error is the DeadlineExceeded). */
  deadline?: boolean;
  /** The size its linear memory ended at. */
  memoryBytes?: number;
}

export async function runProgram(spec: RunSpec): Promise<RunResult> {
  const wasi = new Wasi({
    args: spec.args,
    env: spec.env,
    preopens: [{ guestPath: '/', dir: spec.root, absoluteSymlinks: 'root' }],
    stdin: spec.stdin,
    stdout: spec.stdout,
    stderr: spec.stderr,
    trace: spec.trace,
    maxMemoryBytes: spec.maxMemoryBytes,
    ...(spec.deadlineAt !== undefined ? { deadlineMs: spec.deadlineAt } : {}),
  });
  let imports: WebAssembly.Imports = wasi.imports;
  if (WebAssembly.Module.imports(spec.module).some((i) => i.module === DeadlineImport.module)) {
    const at = spec.deadlineAt ?? Infinity;
    imports = { ...imports, ...deadlineImports(() => at) };
  }
  const instance = await WebAssembly.instantiate(spec.module, imports);
  const memory = instance.exports.memory;
  const size = () => (memory instanceof WebAssembly.Memory ? { memoryBytes: memory.buffer.byteLength } : {});
  try {
    return { exitCode: wasi.start(instance), ...size() };
  } catch (e) {
    if (e instanceof ProcExit) return { exitCode: e.code, ...size() };
    if (e instanceof DeadlineExceeded) return { exitCode: 124, error: e, deadline: true, ...size() };
    return { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)), ...size() };
  }
}
