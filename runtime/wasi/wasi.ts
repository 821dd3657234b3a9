// One WASI preview1 instance: builds the imports over a fresh WasiContext and runs the guest.
// Every import goes through `guard`, the single place where failures become errno values:
// WasiError -> its errno (GuestMemory raises FAULT for pointers outside memory), FsError -> the
// errno of its POSIX name; ProcExit and anything else propagate (a host bug must not pass
// silently as an errno).
import { FsError } from '../core/index.ts';
import { Errno, fsErrorToErrno } from './errno.ts';
import { ProcExit } from './proc-exit.ts';
import { createSyscalls, type Syscall } from './syscalls.ts';
import { WasiContext } from './wasi-context.ts';
import { WasiError } from './wasi-error.ts';
import type { WasiOptions } from './wasi-options.ts';

export function errnoOf(e: unknown): number {
  if (e instanceof WasiError) return e.errno;
  if (e instanceof FsError) return fsErrorToErrno[e.code] ?? Errno.IO;
  throw e;
}

// Which arguments are (pointer, length) strings, for the trace.
const PATH_ARGS: Record<string, number[]> = {
  path_create_directory: [1],
  path_filestat_get: [2],
  path_filestat_set_times: [2],
  path_link: [2, 5],
  path_open: [2],
  path_readlink: [1],
  path_remove_directory: [1],
  path_rename: [1, 4],
  path_symlink: [0, 3],
  path_unlink_file: [1],
};

// The import object is built lazily: an instance looks up only the functions its module imports
// (a dozen for most programs), so each wrapper is made on first lookup instead of all 46 per run.
// It still behaves as a plain object of 46 functions (keys, `in`, spreading).
let syscallNames: string[] | undefined;
function allSyscallNames(): string[] {
  return (syscallNames ??= Object.keys(createSyscalls(new WasiContext({}))));
}

class LazyImports {
  private syscalls: Record<string, Syscall> | undefined;
  private readonly made = new Map<string, (...args: any[]) => number>();
  constructor(
    private readonly build: () => Record<string, Syscall>,
    private readonly wrap: (name: string, fn: Syscall) => (...args: any[]) => number,
  ) {}
  lookup(name: string): ((...args: any[]) => number) | undefined {
    let f = this.made.get(name);
    if (f === undefined) {
      this.syscalls ??= this.build();
      const fn = Object.hasOwn(this.syscalls, name) ? this.syscalls[name] : undefined;
      if (fn === undefined) return undefined;
      f = this.wrap(name, fn);
      this.made.set(name, f);
    }
    return f;
  }
}

const lazyHandler: ProxyHandler<LazyImports> = {
  get: (t, name) => (typeof name === 'string' ? t.lookup(name) : undefined),
  has: (t, name) => typeof name === 'string' && t.lookup(name) !== undefined,
  ownKeys: () => allSyscallNames(),
  getOwnPropertyDescriptor: (t, name) => {
    const value = typeof name === 'string' ? t.lookup(name) : undefined;
    return value && { value, writable: false, enumerable: true, configurable: true };
  },
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
};

export class Wasi {
  readonly imports: { wasi_snapshot_preview1: WebAssembly.ModuleImports };
  private readonly ctx: WasiContext;

  constructor(options: WasiOptions = {}) {
    const ctx = (this.ctx = new WasiContext(options));
    const trace = options.trace;
    const lazy = new LazyImports(
      () => createSyscalls(ctx),
      trace ? (name, fn) => this.traced(name, fn, trace) : (_name, fn) => guard(fn),
    );
    this.imports = { wasi_snapshot_preview1: new Proxy(lazy, lazyHandler) as unknown as WebAssembly.ModuleImports };
  }

  /** Runs _start; returns the exit code (0 if _start returns, else the code of proc_exit). Traps are rethrown. */
  start(instance: WebAssembly.Instance): number {
    this.bind(instance);
    const start = instance.exports._start;
    if (typeof start !== 'function')
      throw new Error('WASI: the module exports no _start function (a reactor? use initialize)');
    try {
      start();
      return 0;
    } catch (e) {
      if (e instanceof ProcExit) return e.code;
      throw e;
    } finally {
      this.ctx.table.closeAll(); // host files it left open
    }
  }

  /**
   * As start, for a guest whose imports may suspend it (JSPI: `WebAssembly.Suspending` imports):
   * _start is called through `WebAssembly.promising`.
   */
  async startSuspending(instance: WebAssembly.Instance): Promise<number> {
    this.bind(instance);
    const start = instance.exports._start;
    const promising = (
      WebAssembly as unknown as { promising?: (f: (...a: never) => unknown) => () => Promise<unknown> }
    ).promising;
    if (typeof start !== 'function') throw new Error('WASI: the module exports no _start function');
    if (!promising) throw new Error('WASI: this engine has no JSPI (WebAssembly.promising)');
    try {
      await promising(start as (...a: never) => unknown)();
      return 0;
    } catch (e) {
      if (e instanceof ProcExit) return e.code;
      throw e;
    } finally {
      this.ctx.table.closeAll();
    }
  }

  /** The host waited `ns` for a SleepPending: the retried call sleeps no more. */
  sleptAhead(ns: bigint): void {
    this.ctx.sleptAhead = ns;
  }

  /** For reactors: calls _initialize if exported. */
  initialize(instance: WebAssembly.Instance): void {
    this.bind(instance);
    const init = instance.exports._initialize;
    if (typeof init === 'function') init();
  }

  private bind(instance: WebAssembly.Instance): void {
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error('WASI: the module exports no memory named "memory"');
    this.ctx.memory.bind(memory);
  }

  private traced(name: string, fn: Syscall, trace: (line: string) => void): (...args: any[]) => number {
    const paths = PATH_ARGS[name] ?? [];
    const mem = this.ctx.memory;
    return (...args: any[]): number => {
      const shown = args.map((a, i) => (paths.includes(i - 1) ? undefined : String(a)));
      for (const i of paths) shown[i] = JSON.stringify(mem.lenientString(args[i] >>> 0, args[i + 1] >>> 0));
      const head = `${name}(${shown.filter((s) => s !== undefined).join(', ')})`;
      let result: number;
      try {
        result = fn(...args);
      } catch (e) {
        if (e instanceof ProcExit) trace(`${head} = exit ${e.code}`);
        result = errnoOf(e);
      }
      trace(`${head} = ${result}`);
      return result;
    };
  }
}

// Fixed-arity wrappers: a rest-parameter wrapper allocates an array on every syscall.
function guard(fn: Syscall): (...args: any[]) => number {
  switch (fn.length) {
    case 0:
      return () => {
        try {
          return fn();
        } catch (e) {
          return errnoOf(e);
        }
      };
    case 1:
      return (a) => {
        try {
          return fn(a);
        } catch (e) {
          return errnoOf(e);
        }
      };
    case 2:
      return (a, b) => {
        try {
          return fn(a, b);
        } catch (e) {
          return errnoOf(e);
        }
      };
    case 3:
      return (a, b, c) => {
        try {
          return fn(a, b, c);
        } catch (e) {
          return errnoOf(e);
        }
      };
    case 4:
      return (a, b, c, d) => {
        try {
          return fn(a, b, c, d);
        } catch (e) {
          return errnoOf(e);
        }
      };
    case 5:
      return (a, b, c, d, e) => {
        try {
          return fn(a, b, c, d, e);
        } catch (err) {
          return errnoOf(err);
        }
      };
    case 6:
      return (a, b, c, d, e, f) => {
        try {
          return fn(a, b, c, d, e, f);
        } catch (err) {
          return errnoOf(err);
        }
      };
    case 7:
      return (a, b, c, d, e, f, g) => {
        try {
          return fn(a, b, c, d, e, f, g);
        } catch (err) {
          return errnoOf(err);
        }
      };
    case 9:
      return (a, b, c, d, e, f, g, h, i) => {
        try {
          return fn(a, b, c, d, e, f, g, h, i);
        } catch (err) {
          return errnoOf(err);
        }
      };
    default:
      return (...args: any[]): number => {
        try {
          return fn(...args);
        } catch (e) {
          return errnoOf(e);
        }
      };
  }
}
