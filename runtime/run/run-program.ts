// One run = one fresh instance of a compiled module over a root filesystem, through berth's WASI broker.
import type { FsDir } from '../core/index.ts';
import { ProcExit, Wasi } from '../wasi/index.ts';
import { BytesPending, DeadlineExceeded, retryPending } from '../core/index.ts';
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
  /**
   * The root's file bytes may be pending (a ByteSource throws BytesPending): the calls that read
   * files suspend the program until the bytes are loaded (JSPI). Ignored where JSPI is absent.
   */
  suspendingReads?: boolean;
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
  const jspi = spec.suspendingReads ? jspiApi() : undefined;
  if (jspi) imports = { ...imports, wasi_snapshot_preview1: suspendingReads(imports.wasi_snapshot_preview1, jspi) };
  const instance = await WebAssembly.instantiate(spec.module, imports);
  const memory = instance.exports.memory;
  const size = () => (memory instanceof WebAssembly.Memory ? { memoryBytes: memory.buffer.byteLength } : {});
  try {
    return { exitCode: jspi ? await wasi.startSuspending(instance) : wasi.start(instance), ...size() };
  } catch (e) {
    if (e instanceof ProcExit) return { exitCode: e.code, ...size() };
    if (e instanceof DeadlineExceeded) return { exitCode: 124, error: e, deadline: true, ...size() };
    return { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)), ...size() };
  }
}

interface Jspi {
  Suspending: new (f: (...args: never[]) => Promise<unknown>) => unknown;
}

/** The JSPI API where the engine has it (Chromium pages, workers and Service Workers; not Node 20). */
export function jspiApi(): Jspi | undefined {
  const w = WebAssembly as unknown as Partial<Jspi> & { promising?: unknown };
  return typeof w.Suspending === 'function' && typeof w.promising === 'function' ? (w as Jspi) : undefined;
}

/** The reads that touch file bytes, and only they, become suspending imports that load and retry. */
const FILE_READS = new Set(['fd_read', 'fd_pread']);

function suspendingReads(base: WebAssembly.ModuleImports, jspi: Jspi): WebAssembly.ModuleImports {
  const made = new Map<string, unknown>();
  return new Proxy(base, {
    get(target, name) {
      if (typeof name !== 'string' || !FILE_READS.has(name)) return Reflect.get(target, name);
      let f = made.get(name);
      if (!f) {
        const call = Reflect.get(target, name) as (...a: unknown[]) => number;
        // A read of pending bytes throws before it changes anything (the fd's position moves after
        // the whole read), so it is retried as it was once the bytes are loaded.
        // Only a read that found bytes pending returns a promise (and suspends the program).
        f = new jspi.Suspending((...a: never[]) => {
          try {
            return call(...a) as unknown as Promise<unknown>;
          } catch (e) {
            if (e instanceof BytesPending) return e.load().then(() => retryPending(() => call(...a)));
            throw e;
          }
        });
        made.set(name, f);
      }
      return f;
    },
  });
}
