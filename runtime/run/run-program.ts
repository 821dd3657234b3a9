// One run = one fresh instance of a compiled module over a root filesystem, through berth's WASI broker.
import type { FsDir } from '../core/index.ts';
import { ProcExit, Wasi, type Terminal } from '../wasi/index.ts';
import {
  beforeDeadline,
  BytesPending,
  DeadlineExceeded,
  deadlinePassed,
  retryPending,
  SleepPending,
} from '../core/index.ts';
import { DeadlineImport, deadlineImports, spendFuel } from '../wasm/instrument-deadline.ts';
import { requireImportsProvided } from '../wasm/binary-kind.ts';

export interface RunSpec {
  module: WebAssembly.Module;
  root: FsDir;
  args: string[];
  env: Record<string, string>;
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  trace?: (line: string) => void;
  /** Which standard streams are terminals (default: all). */
  terminal?: Terminal;
  /** Cap on the instance's linear memory, checked by the broker when a syscall finds it grew (the program then traps). */
  maxMemoryBytes?: number;
  /**
   * The root's file bytes may be pending (a ByteSource throws BytesPending): the calls that read
   * files suspend the program until the bytes are loaded (JSPI). Ignored where JSPI is absent.
   */
  suspendingReads?: boolean;
  /**
   * Asked after each fd_write: a promise makes the program wait until it settles (its reader is
   * behind: backpressure; a rejection ends the run). Needs JSPI; ignored where it is absent.
   */
  writeWait?: () => Promise<void> | undefined;
  /** Wall-clock deadline (performance.now() clock): metered modules stop there, and sleeps never pass it. */
  deadlineAt?: number;
  /**
   * Asked at a metered module's ticks (every few thousand checks): true stops the program there,
   * as its deadline would. How a stopped run ends where terminating its worker does not stop wasm.
   */
  stopped?: () => boolean;
  /** The program called fd_sync/fd_datasync: make its writes durable (see WasiOptions.onSync). */
  onSync?: () => void;
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
  const jspi = spec.suspendingReads || spec.writeWait ? jspiApi() : undefined;
  // Where reads suspend (the SW), pure sleeps do too: its thread must not spin through them.
  const suspendSleeps = jspi !== undefined && spec.suspendingReads === true;
  /**
   * The first deadline a tick or a host wait met, kept: a guest may catch what a wait throws
   * (catch_all) and return or exit. Its fuel is then spent, so its next charge ticks, and traps.
   */
  let exceeded: DeadlineExceeded | undefined;
  let instance: WebAssembly.Instance | undefined;
  const note = (e: DeadlineExceeded) => {
    exceeded ??= e;
    if (instance) spendFuel(instance);
  };
  const noted = (e: unknown): never => {
    if (e instanceof DeadlineExceeded) note(e);
    throw e;
  };
  const wasi = new Wasi({
    suspendSleeps,
    args: spec.args,
    env: spec.env,
    preopens: [{ guestPath: '/', dir: spec.root, absoluteSymlinks: 'root' }],
    stdin: spec.stdin,
    stdout: spec.stdout,
    stderr: spec.stderr,
    trace: spec.trace,
    ...(spec.terminal ? { terminal: spec.terminal } : {}),
    maxMemoryBytes: spec.maxMemoryBytes,
    ...(spec.deadlineAt !== undefined ? { deadlineMs: spec.deadlineAt, onDeadline: note } : {}),
    ...(spec.onSync ? { onSync: spec.onSync } : {}),
  });
  let imports: WebAssembly.Imports = wasi.imports;
  if (WebAssembly.Module.imports(spec.module).some((i) => i.module === DeadlineImport.module)) {
    const at = spec.deadlineAt ?? Infinity;
    const stopped = spec.stopped;
    const deadline = () => (exceeded || stopped?.() ? -Infinity : at);
    imports = { ...imports, ...deadlineImports(deadline, { onExceeded: note }) };
  }
  if (jspi) {
    const at = spec.deadlineAt;
    const writeWait = spec.writeWait;
    const waits: Suspensions = {
      reads: spec.suspendingReads === true,
      loads: (load) => beforeDeadline(load, at, note),
      writeWait: writeWait && (() => writeWait()?.catch(noted)),
      ...(suspendSleeps
        ? {
            // Sleeps until the deadline at most, and decides after (a race of a short sleep's
            // timer with the deadline's would let the sleep win: a loop of 1 us sleeps past its
            // deadline was never told).
            sleep: async (ns: bigint) => {
              const wanted = performance.now() + Number(ns) / 1e6;
              const end = Math.min(wanted, at ?? Infinity);
              await new Promise((r) => setTimeout(r, Math.max(0, end - performance.now())));
              if (end < wanted) throw deadlinePassed(end, note);
              wasi.sleptAhead(ns);
            },
          }
        : {}),
    };
    imports = { ...imports, wasi_snapshot_preview1: suspending(imports.wasi_snapshot_preview1, jspi, waits) };
  }
  requireImportsProvided(spec.module, imports, 'the program');
  const size = () => {
    const memory = instance?.exports.memory;
    return memory instanceof WebAssembly.Memory ? { memoryBytes: memory.buffer.byteLength } : {};
  };
  // A program that caught its deadline and ended anyway ran past it: it ends as stopped there.
  const late = (): RunResult | undefined =>
    exceeded ? { exitCode: 124, error: exceeded, deadline: true, ...size() } : undefined;
  try {
    // Its start function runs here: one that spins meets its deadline in instantiate.
    instance = await WebAssembly.instantiate(spec.module, imports);
  } catch (e) {
    const stopped = late();
    if (stopped) return stopped;
    throw e;
  }
  try {
    const exitCode = jspi ? await wasi.startSuspending(instance) : wasi.start(instance);
    return late() ?? { exitCode, ...size() };
  } catch (e) {
    if (e instanceof ProcExit) return late() ?? { exitCode: e.code, ...size() };
    if (e instanceof DeadlineExceeded) return { exitCode: 124, error: e, deadline: true, ...size() };
    return late() ?? { exitCode: 134, error: e instanceof Error ? e : new Error(String(e)), ...size() };
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

/** The reads that touch file bytes: they load pending bytes and retry. */
const FILE_READS = new Set(['fd_read', 'fd_pread']);

/** Where the program may be made to wait, with JSPI (see RunSpec). */
interface Suspensions {
  reads: boolean;
  writeWait?: () => Promise<void> | undefined;
  /** Bounds a load of pending file bytes by the run's deadline (a loop of reads that each load). */
  loads: (load: Promise<void>) => Promise<void>;
  /** Waits a pure sleep out (a SleepPending) without blocking; rejects at the deadline. */
  sleep?: (ns: bigint) => Promise<void>;
}

/**
 * The imports with the calls that may wait made `WebAssembly.Suspending`: a call returns a promise
 * (and suspends the program) only when it has to wait, otherwise its plain result.
 */
function suspending(base: WebAssembly.ModuleImports, jspi: Jspi, s: Suspensions): WebAssembly.ModuleImports {
  const made = new Map<string, unknown>();
  const wrap = (name: string): ((...a: never[]) => unknown) | undefined => {
    const call = Reflect.get(base, name) as (...a: unknown[]) => number;
    if (s.reads && FILE_READS.has(name)) {
      // A read of pending bytes throws before it changes anything (the fd's position moves after
      // the whole read), so it is retried as it was once the bytes are loaded.
      return (...a) => {
        try {
          return call(...a);
        } catch (e) {
          if (e instanceof BytesPending) {
            const bound = s.loads;
            return bound(e.load()).then(() => retryPending(() => call(...a), bound));
          }
          throw e;
        }
      };
    }
    if (s.sleep && name === 'poll_oneoff') {
      const sleep = s.sleep;
      return (...a) => {
        try {
          return call(...a);
        } catch (e) {
          if (e instanceof SleepPending) return sleep(e.ns).then(() => call(...a));
          throw e;
        }
      };
    }
    if (s.writeWait && name === 'fd_write') {
      // The bytes are written; then the program waits while its reader is behind (backpressure).
      const wait = s.writeWait;
      return (...a) => {
        const r = call(...a);
        const w = wait();
        return w ? w.then(() => r) : r;
      };
    }
    return undefined;
  };
  return new Proxy(base, {
    get(target, name) {
      if (typeof name !== 'string') return Reflect.get(target, name);
      if (!made.has(name)) {
        const f = wrap(name);
        made.set(name, f ? new jspi.Suspending(f as (...a: never[]) => Promise<unknown>) : undefined);
      }
      return made.get(name) ?? Reflect.get(target, name);
    },
  });
}
