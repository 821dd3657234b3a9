// Standard streams: fd 0 reads from bytes or a synchronous pull source, fds 1 and 2 hand each
// write to a callback. They are character devices, so seeking them fails with SPIPE.
import { Filetype, STDIN_RIGHTS, STDOUT_RIGHTS } from './constants.ts';
import { Descriptor } from './descriptor.ts';

export type StdinSource = Uint8Array | ((max: number) => Uint8Array | null);

export class StdinDescriptor extends Descriptor {
  readonly kind = 'stdin' as const;
  readonly filetype = Filetype.CHARACTER_DEVICE;
  private pending: Uint8Array;
  private readonly pull: ((max: number) => Uint8Array | null) | undefined;
  private eof = false;
  constructor(source: StdinSource | undefined) {
    super(STDIN_RIGHTS, 0, false);
    if (typeof source === 'function') {
      this.pull = source;
      this.pending = new Uint8Array(0);
    } else {
      this.pull = undefined;
      this.pending = source ?? new Uint8Array(0);
      this.eof = true;
    }
  }
  /** Up to `max` bytes; an empty result means end of input. */
  read(max: number): Uint8Array {
    if (this.pending.length === 0 && !this.eof && this.pull) {
      const got = this.pull(max);
      if (got === null) this.eof = true;
      else this.pending = got;
    }
    const n = Math.min(max, this.pending.length);
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }
  /** Bytes readable without asking the source (for poll_oneoff). */
  buffered(): number {
    return this.pending.length;
  }
}

export class StdoutDescriptor extends Descriptor {
  readonly kind = 'stdout' as const;
  readonly filetype = Filetype.CHARACTER_DEVICE;
  constructor(readonly sink: ((chunk: Uint8Array) => void) | undefined) {
    super(STDOUT_RIGHTS, 0, false);
  }
}
