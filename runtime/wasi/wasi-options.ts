// Options of one WASI instance (see Wasi). Every field is optional.
import type { FsDir, NoteDeadline } from '../core/index.ts';

export interface WasiPreopen {
  /** The path the guest sees, e.g. "/" or "/data". */
  guestPath: string;
  dir: FsDir;
  /** Every mutation beneath it fails with ROFS. */
  readonly?: boolean;
  /**
   * How an absolute symlink target beneath it is followed: 'refuse' (default) fails with
   * NOTCAPABLE; 'root' resolves it from this preopen's directory, chroot-like (an image rootfs
   * mounted at "/", where `/bin/sh -> /usr/bin/dash`). Either way nothing outside is reached.
   */
  absoluteSymlinks?: 'refuse' | 'root';
}

/** Which of the standard streams are terminals. */
export interface Terminal {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface WasiOptions {
  /** argv, argv[0] included. */
  args?: string[];
  env?: Record<string, string>;
  /** Become fds 3, 4, ... in this order. */
  preopens?: WasiPreopen[];
  /**
   * Bytes, or a synchronous pull source returning at most `max` bytes: null = end of input, an
   * empty array = nothing available yet (a blocking read sleeps and asks again; poll waits).
   */
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  /** Called once per fd_write with a copy of the bytes. */
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  /**
   * Which standard streams are terminals (default: all). A terminal is a character device (what
   * isatty() asks); any other stream reports an unknown file type, as wasmtime gives a pipe, so a
   * program buffers its output fully as it would into a pipe.
   */
  terminal?: Terminal;
  /** Realtime clock, ns since the epoch. */
  now?: () => bigint;
  /** Monotonic clock, ns. */
  monotonic?: () => bigint;
  randomFill?: (buf: Uint8Array) => void;
  /**
   * Cap on the guest's linear memory, bytes. Checked when a syscall finds the memory grew: the
   * syscall then traps (RuntimeError resource-exhausted) instead of running.
   */
  maxMemoryBytes?: number;
  /**
   * Wall-clock deadline of the run (performance.now() clock): sleeps and blocking reads end there
   * with DeadlineExceeded instead of waiting on.
   */
  deadlineMs?: number;
  /** Told the DeadlineExceeded a sleep or read throws at `deadlineMs` first: the guest may catch it. */
  onDeadline?: NoteDeadline;
  /**
   * Pure sleeps (poll_oneoff on clocks alone) throw SleepPending instead of blocking, for a host
   * that suspends the program (JSPI) and retries the call after `Wasi.sleptAhead(ns)`.
   */
  suspendSleeps?: boolean;
  /** strace-like log, one line per syscall: `path_open(3, "data/x", ...) = 0`. */
  trace?: (line: string) => void;
  /**
   * Called by fd_sync and fd_datasync on a file or directory (the program asks for its writes to be
   * durable): the host makes them so (berth run commits the volumes then). A throw fails the call with EIO.
   */
  onSync?: () => void;
}
