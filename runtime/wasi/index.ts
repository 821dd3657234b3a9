export { Wasi } from './wasi.ts';
export type { Terminal, WasiOptions, WasiPreopen } from './wasi-options.ts';
export { ProcExit } from './proc-exit.ts';
export { WasiError } from './wasi-error.ts';
export { Errno } from './errno.ts';
export {
  Rights,
  Filetype,
  Fdflags,
  Oflags,
  Lookupflags,
  Fstflags,
  Whence,
  Clockid,
  Eventtype,
  Eventrwflags,
  Subclockflags,
  Advice,
  Preopentype,
} from './constants.ts';
export { resolvePath, type ResolvedPath } from './path-resolver.ts';
export { onBlocking } from './sleep.ts';
