// One run = one fresh instance of a compiled module over a root filesystem, through berth's WASI broker.
import type { FsDir } from '../core/index.ts';
import { ProcExit, Wasi } from '../wasi/index.ts';

export interface RunSpec {
  module: WebAssembly.Module;
  root: FsDir;
  args: string[];
  env: Record<string, string>;
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  trace?: (line: string) => void;
}

export interface RunResult {
  exitCode: number;
  /** Set when the program trapped (or the host failed mid-run) instead of exiting. */
  error?: Error;
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
  const instance = await WebAssembly.instantiate(spec.module, wasi.imports);
  try {
    return { exitCode: wasi.start(instance) };
  } catch (e) {
    if (e instanceof ProcExit) return { exitCode: e.code };
    return { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)) };
  }
}
