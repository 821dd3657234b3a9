// One run = one fresh instance of a compiled module over a root filesystem, through berth's WASI broker.
import { RuntimeError, type FsDir } from '../core/index.ts';
import { ProcExit, Wasi } from '../wasi/index.ts';
import { DeadlineExceeded, DeadlineImport, deadlineImports } from '../wasm/instrument-deadline.ts';

export interface RunSpec {
  module: WebAssembly.Module;
  root: FsDir;
  args: string[];
  env: Record<string, string>;
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  trace?: (line: string) => void;
  /** Cap on the instance's linear memory, checked at every syscall (a program that outgrows it traps). */
  maxMemoryBytes?: number;
  /** Wall-clock deadline (performance.now() clock) for a module instrumented with deadline checks. */
  deadlineAt?: number;
}

export interface RunResult {
  exitCode: number;
  /** Set when the program trapped (or the host failed mid-run) instead of exiting. */
  error?: Error;
  /** The program was stopped at its deadline (error is the DeadlineExceeded). */
  deadline?: boolean;
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
  });
  let imports: WebAssembly.Imports = wasi.imports;
  let memory: WebAssembly.Memory | undefined;
  const cap = spec.maxMemoryBytes;
  if (cap !== undefined) {
    // Memory grows without asking the host; every syscall is where the host gets to look.
    const inner = wasi.imports.wasi_snapshot_preview1;
    const checked: WebAssembly.ModuleImports = {};
    for (const imp of WebAssembly.Module.imports(spec.module)) {
      if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
      const f = inner[imp.name] as (...a: unknown[]) => unknown;
      checked[imp.name] = (...args: unknown[]) => {
        if (memory && memory.buffer.byteLength > cap) {
          throw new RuntimeError('resource-exhausted', `the program's memory grew to ${memory.buffer.byteLength} bytes, past its limit of ${cap}`);
        }
        return f(...args);
      };
    }
    imports = { ...wasi.imports, wasi_snapshot_preview1: checked };
  }
  if (WebAssembly.Module.imports(spec.module).some((i) => i.module === DeadlineImport.module)) {
    const at = spec.deadlineAt ?? Infinity;
    imports = { ...imports, ...deadlineImports(() => at) };
  }
  const instance = await WebAssembly.instantiate(spec.module, imports);
  memory = instance.exports.memory instanceof WebAssembly.Memory ? instance.exports.memory : undefined;
  try {
    return { exitCode: wasi.start(instance) };
  } catch (e) {
    if (e instanceof ProcExit) return { exitCode: e.code };
    if (e instanceof DeadlineExceeded) return { exitCode: 124, error: e, deadline: true };
    return { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)) };
  }
}
