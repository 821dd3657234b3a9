// The per-instance context: arguments, environment, clocks, randomness, memory and fd table.
import { ALL_RIGHTS, DIR_INHERITING_RIGHTS, DIR_RIGHTS } from './constants.ts';
import { DirDescriptor } from './dir-descriptor.ts';
import { FdTable } from './fd-table.ts';
import { GuestMemory } from './guest-memory.ts';
import { hostWork, SleepPending } from '../core/index.ts';
import { sleepNs } from './sleep.ts';
import { StdinDescriptor, StdoutDescriptor } from './stdio-descriptor.ts';
import type { WasiOptions } from './wasi-options.ts';

const encoder = new TextEncoder();
/** NUL-terminated UTF-8. */
function z(s: string): Uint8Array {
  return encoder.encode(`${s}\0`);
}

const perfNs = (): bigint => BigInt(Math.round(performance.now() * 1e6));

function defaultRandomFill(buf: Uint8Array): void {
  // getRandomValues refuses more than 65536 bytes at a time.
  for (let off = 0; off < buf.length; off += 65536) {
    crypto.getRandomValues(buf.subarray(off, Math.min(buf.length, off + 65536)) as Uint8Array<ArrayBuffer>);
  }
}

export class WasiContext {
  /** Each argument / environment entry as NUL-terminated UTF-8. */
  readonly args: Uint8Array[];
  readonly env: Uint8Array[];
  readonly table = new FdTable();
  readonly memory: GuestMemory;
  /** The meter of host work, where the run has a deadline (see hostWork): may throw it. */
  readonly work?: (bytes: number) => void;
  /**
   * A pure sleep, bounded by the run's deadline (sleep.ts); with `suspendSleeps` it throws
   * SleepPending for the host to wait without blocking, and returns at once on the retry.
   */
  readonly sleep: (ns: bigint) => void;
  /** A sleep that blocks the thread (between polls of a source that has nothing yet). */
  readonly blockingSleep: (ns: bigint) => void;
  /** Sleep the host already waited for this call (see SleepPending). */
  sleptAhead = 0n;
  readonly now: () => bigint;
  readonly monotonic: () => bigint;
  readonly randomFill: (buf: Uint8Array) => void;
  readonly onSync?: () => void;
  /** Monotonic time at creation: the zero of the cputime clocks. */
  readonly startedAt: bigint;

  constructor(options: WasiOptions) {
    this.work = hostWork(options.deadlineMs, options.onDeadline);
    this.memory = new GuestMemory(options.maxMemoryBytes, this.work);
    this.args = (options.args ?? []).map(z);
    this.env = Object.entries(options.env ?? {}).map(([k, v]) => z(`${k}=${v}`));
    const realBase = BigInt(Date.now()) * 1_000_000n - perfNs();
    this.now = options.now ?? (() => realBase + perfNs());
    this.monotonic = options.monotonic ?? perfNs;
    this.randomFill = options.randomFill ?? defaultRandomFill;
    this.onSync = options.onSync;
    this.startedAt = this.monotonic();
    const deadline = options.deadlineMs;
    const note = options.onDeadline;
    this.blockingSleep = (ns) => sleepNs(ns, deadline, note);
    this.sleep = (ns) => {
      if (this.sleptAhead >= ns) {
        this.sleptAhead = 0n;
        return;
      }
      if (options.suspendSleeps) throw new SleepPending(ns);
      sleepNs(ns, deadline, note);
    };
    const tty = options.terminal ?? { stdin: true, stdout: true, stderr: true };
    this.table.insert(new StdinDescriptor(options.stdin, this.blockingSleep, tty.stdin));
    this.table.insert(new StdoutDescriptor(options.stdout, tty.stdout));
    this.table.insert(new StdoutDescriptor(options.stderr, tty.stderr));
    for (const p of options.preopens ?? []) {
      const root = p.absoluteSymlinks === 'root' ? p.dir : undefined;
      this.table.insert(
        new DirDescriptor(
          p.dir,
          p.dir,
          p.guestPath,
          DIR_RIGHTS,
          DIR_INHERITING_RIGHTS & ALL_RIGHTS,
          p.readonly === true,
          root,
        ),
      );
    }
  }
}
