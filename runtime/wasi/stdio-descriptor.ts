// Standard streams: fd 0 reads from bytes or a synchronous pull source, fds 1 and 2 hand each
// write to a callback. A terminal is a character device, anything else an unknown file type (what
// wasmtime reports for a pipe); seeking either fails with SPIPE.
// A pull source answers bytes, null (end of input) or an empty array: "nothing yet" (a host fd
// that said EAGAIN). A blocking read then sleeps and asks again; poll_oneoff asks without waiting.
import { Filetype, STDIN_RIGHTS, STDOUT_RIGHTS } from './constants.ts';
import { Descriptor } from './descriptor.ts';
import { sleepNs } from './sleep.ts';

export type StdinSource = Uint8Array | ((max: number) => Uint8Array | null);

/** Longest sleep between two asks of a source that had nothing (ns). */
const MAX_BACKOFF = 50_000_000n;
const PULL_SIZE = 65536;

export class StdinDescriptor extends Descriptor {
  readonly kind = 'stdin' as const;
  readonly filetype: number;
  private pending: Uint8Array;
  private readonly pull: ((max: number) => Uint8Array | null) | undefined;
  private eof = false;
  constructor(
    source: StdinSource | undefined,
    private readonly sleep: (ns: bigint) => void = sleepNs,
    terminal = true,
  ) {
    super(STDIN_RIGHTS, 0, false);
    this.filetype = terminal ? Filetype.CHARACTER_DEVICE : Filetype.UNKNOWN;
    if (typeof source === 'function') {
      this.pull = source;
      this.pending = new Uint8Array(0);
    } else {
      this.pull = undefined;
      this.pending = source ?? new Uint8Array(0);
      this.eof = true;
    }
  }
  /**
   * Up to `max` bytes; an empty result means end of input, or with `nonblocking` that nothing is
   * available yet (then `wouldBlock()` is true).
   */
  read(max: number, nonblocking = false): Uint8Array {
    if (this.pending.length === 0 && !this.eof && this.pull) {
      let wait = 1_000_000n;
      while (!this.ask(max) && !nonblocking) {
        this.sleep(wait);
        if (wait < MAX_BACKOFF) wait *= 2n;
      }
    }
    const n = Math.min(max, this.pending.length);
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }
  /** True when a read would have to wait for the source. */
  wouldBlock(): boolean {
    return this.pending.length === 0 && !this.eof;
  }
  /** Readiness for poll_oneoff: asks the source once (without waiting) if nothing is buffered. */
  readiness(): { ready: boolean; nbytes: number; hangup: boolean } {
    if (this.pending.length === 0 && !this.eof && this.pull) this.ask(PULL_SIZE);
    return {
      ready: this.pending.length > 0 || this.eof,
      nbytes: this.pending.length,
      hangup: this.pending.length === 0 && this.eof,
    };
  }
  /** Asks the source once; false if it had nothing yet. */
  private ask(max: number): boolean {
    const got = this.pull!(max);
    if (got === null) this.eof = true;
    else if (got.length === 0) return false;
    else this.pending = got;
    return true;
  }
}

export class StdoutDescriptor extends Descriptor {
  readonly kind = 'stdout' as const;
  readonly filetype: number;
  constructor(
    readonly sink: ((chunk: Uint8Array) => void) | undefined,
    terminal = true,
  ) {
    super(STDOUT_RIGHTS, 0, false);
    this.filetype = terminal ? Filetype.CHARACTER_DEVICE : Filetype.UNKNOWN;
  }
}
