// berth's own host for the WASI 0.2 `wasi:cli/command` world, as the objects jco's transpiled glue
// imports (instantiation mode "async": `imports['wasi:io/streams'].InputStream` and so on; WIT
// names in camelCase, resources as classes, u64 as bigint, `result` errors thrown as their payload:
// an error-code string for wasi:filesystem, a `stream-error` variant for wasi:io). The filesystem
// is berth's VFS (the image's overlay and volumes), walked with the same sandboxed path resolver as
// the preview1 broker (runtime/wasi/path-resolver.ts): a component sees exactly the files a
// preview1 module sees, and nothing outside its preopen.
//
// Blocking (stdin, sleeps) is synchronous, as in the preview1 broker (runtime/wasi/sleep.ts): fine in
// Node and dedicated workers; a deadline ends a sleep with DeadlineExceeded.
import {
  deadlinePassed,
  fillWork,
  FsError,
  hostWork,
  RuntimeError,
  type FsDir,
  type FsFile,
  type FsNode,
  type FsOpenFile,
  type FsStat,
  type NoteDeadline,
} from '../core/index.ts';
import { Errno, fsErrorToErrno } from '../wasi/errno.ts';
import { resolvePath } from '../wasi/path-resolver.ts';
import { Listings } from '../wasi/dir-descriptor.ts';
import { sleepNs } from '../wasi/sleep.ts';
import { WasiError } from '../wasi/wasi-error.ts';

/** What the program gets: the command world's inputs and outputs. */
export interface P2HostOptions {
  args: string[];
  env: Record<string, string>;
  /** `/` of the program (the image's overlay with volumes mounted). */
  root: FsDir;
  /** Whole stdin, or a blocking pull of at most `max` bytes (null or empty at the end). */
  stdin?: Uint8Array | ((max: number) => Uint8Array | null);
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  /** Wall-clock deadline (performance.now() clock): sleeps end there. */
  deadlineAt?: number;
  /** Told the DeadlineExceeded a sleep throws at `deadlineAt` first: the guest may catch it. */
  onDeadline?: NoteDeadline;
  /** Asked at metered core modules' ticks: true stops the run there (see RunSpec.stopped). */
  stopped?: () => boolean;
  /** The initial working directory, absolute (the image's WorkingDir). */
  cwd?: string;
  /** Which standard streams are terminals (default: none, as a component has always been told). */
  terminal?: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** The program asked for its writes to be durable (descriptor.sync / sync-data). */
  onSync?: () => void;
  /**
   * Waits return promises instead of blocking (poll, pollable.block): for glue made in the `jspi`
   * variant, where the component is suspended on them and the realm's event loop runs meanwhile.
   */
  suspend?: boolean;
}

/** Thrown by wasi:cli/exit; the runner turns it into the exit code (0 for ok, 1 for err). */
export class P2Exit {
  constructor(readonly code: number) {}
}

const ERRNO_CODE: Partial<Record<number, string>> = {
  [Errno.ACCES]: 'access',
  [Errno.AGAIN]: 'would-block',
  [Errno.ALREADY]: 'already',
  [Errno.BADF]: 'bad-descriptor',
  [Errno.BUSY]: 'busy',
  [Errno.DEADLK]: 'deadlock',
  [Errno.DQUOT]: 'quota',
  [Errno.EXIST]: 'exist',
  [Errno.FBIG]: 'file-too-large',
  [Errno.ILSEQ]: 'illegal-byte-sequence',
  [Errno.INPROGRESS]: 'in-progress',
  [Errno.INTR]: 'interrupted',
  [Errno.INVAL]: 'invalid',
  [Errno.IO]: 'io',
  [Errno.ISDIR]: 'is-directory',
  [Errno.LOOP]: 'loop',
  [Errno.MLINK]: 'too-many-links',
  [Errno.MSGSIZE]: 'message-size',
  [Errno.NAMETOOLONG]: 'name-too-long',
  [Errno.NODEV]: 'no-device',
  [Errno.NOENT]: 'no-entry',
  [Errno.NOLCK]: 'no-lock',
  [Errno.NOMEM]: 'insufficient-memory',
  [Errno.NOSPC]: 'insufficient-space',
  [Errno.NOTDIR]: 'not-directory',
  [Errno.NOTEMPTY]: 'not-empty',
  [Errno.NOTRECOVERABLE]: 'not-recoverable',
  [Errno.NOTSUP]: 'unsupported',
  [Errno.NOTTY]: 'no-tty',
  [Errno.NXIO]: 'no-such-device',
  [Errno.OVERFLOW]: 'overflow',
  [Errno.PERM]: 'not-permitted',
  [Errno.PIPE]: 'pipe',
  [Errno.ROFS]: 'read-only',
  [Errno.SPIPE]: 'invalid-seek',
  [Errno.TXTBSY]: 'text-file-busy',
  [Errno.XDEV]: 'cross-device',
  // What escaping the sandbox gets (wasmtime answers the same).
  [Errno.NOTCAPABLE]: 'not-permitted',
};

/** Runs `f`, turning the filesystem's and the resolver's errors into wasi:filesystem error codes. */
function fs<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WasiError) throw ERRNO_CODE[e.errno] ?? 'io';
    if (e instanceof FsError) throw ERRNO_CODE[fsErrorToErrno[e.code]] ?? 'io';
    throw e;
  }
}

/** The key jco's glue calls when the guest drops a host resource (its own fallback where Symbol.dispose is absent). */
export const symbolDispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/**
 * Host resources (streams, pollables, descriptors, wasi:http's fields and bodies...) a guest may
 * hold at once, as a process's open files are limited. Each lives in the host's memory until the
 * guest drops it: a loop keeping pollables, clones of a 64 KiB fields or directory listings grew the
 * host by 150-800 MiB/s. Past it, making one traps (resource-exhausted).
 */
export const MAX_LIVE_RESOURCES = 65_536;
/** Where wasiP2Imports' result keeps its base class of counted resources, for the wasi:http host. */
export const HELD_RESOURCE = Symbol('berth held resource');

const toDatetime = (ns: bigint) => ({ seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) });
const fromDatetime = (d: { seconds: bigint; nanoseconds: number }) =>
  d.seconds * 1_000_000_000n + BigInt(d.nanoseconds);

type NewTimestamp =
  | { tag: 'no-change' }
  | { tag: 'now' }
  | { tag: 'timestamp'; val: { seconds: bigint; nanoseconds: number } };
function newTime(t: NewTimestamp): bigint | null {
  if (t.tag === 'no-change') return null;
  if (t.tag === 'now') return BigInt(Date.now()) * 1_000_000n;
  return fromDatetime(t.val);
}

function typeOf(kind: FsNode['kind']): string {
  return kind === 'dir' ? 'directory' : kind === 'symlink' ? 'symbolic-link' : 'regular-file';
}

function statOf(s: FsStat) {
  return {
    type: typeOf(s.kind),
    linkCount: s.nlink,
    size: s.size,
    dataAccessTimestamp: toDatetime(s.atim),
    dataModificationTimestamp: toDatetime(s.mtim),
    statusChangeTimestamp: toDatetime(s.ctim),
  };
}

const CHUNK = 1 << 20;

/** Builds the imports object for one run of a command component. */
export function wasiP2Imports(options: P2HostOptions): Record<string, Record<string, unknown>> {
  const deadline = options.deadlineAt ?? Number.POSITIVE_INFINITY;
  /** The bytes a call moves, told before it moves them: may throw the deadline (see hostWork). */
  const meter = hostWork(options.deadlineAt, options.onDeadline);
  const work = meter ?? (() => {});
  /** A path the glue decoded, resolved: its length is work (a 64 MiB path took 98 ms to refuse). */
  const resolveAt: typeof resolvePath = (dir, path, ...rest) => {
    work(path.length);
    return resolvePath(dir, path, ...rest);
  };
  /** A file made to reach `end` is zero-filled up to it. */
  const filling = (file: FsFile, end: number): void => fillWork(meter, file, end);

  /**
   * A u64 offset as a number, past 2^53 refused (file-too-large) as preview1's broker does: as a
   * number it was no longer the offset asked for, and a host file wrote at its current position.
   */
  const fileOffset = (offset: bigint): number => {
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw 'file-too-large';
    return Number(offset);
  };

  let live = 0;
  /**
   * Throws when one more resource would be past MAX_LIVE_RESOURCES. Called before the host takes
   * what a new resource will hold (an open file, a hold on a descriptor's file), not only by the
   * constructor: the constructor's throw would leave that taken with nothing to let it go.
   */
  const roomForOne = (): void => {
    if (live >= MAX_LIVE_RESOURCES)
      throw new RuntimeError(
        'resource-exhausted',
        `the program holds ${MAX_LIVE_RESOURCES} host resources (streams, pollables, descriptors...) and made another`,
      );
  };
  /** Counted while the guest holds it (see MAX_LIVE_RESOURCES). */
  class Held {
    private counted = true;
    constructor() {
      roomForOne();
      live++;
    }
    [symbolDispose](): void {
      if (!this.counted) return;
      this.counted = false;
      live--;
    }
  }

  class IoError {
    constructor(readonly message: string) {}
    toDebugString(): string {
      return this.message;
    }
  }
  const failed = (message: string) => ({ tag: 'last-operation-failed', val: new IoError(message) });
  const closed = { tag: 'closed' };

  /** Waits until performance.now() reaches `at` without blocking, or throws at the deadline. */
  const sleepUntil = async (at: number): Promise<void> => {
    const end = Math.min(at, deadline);
    if (end === Number.POSITIVE_INFINITY) return new Promise<void>(() => {});
    while (performance.now() < end) await new Promise((r) => setTimeout(r, Math.max(0, end - performance.now())));
    if (end < at) throw deadlinePassed(deadline, options.onDeadline);
  };

  class Pollable extends Held {
    constructor(
      /** When it is ready (performance.now() clock); 0: at once. */
      readonly at = 0,
      /** Or: when this settles (an outgoing request's answer; only where waits suspend). */
      readonly pending?: { settled: boolean; promise: Promise<unknown> },
    ) {
      super();
    }
    ready(): boolean {
      return this.pending ? this.pending.settled : performance.now() >= this.at;
    }
    block(): void | Promise<void> {
      if (options.suspend) return waitAny([this]);
      const ms = this.at - performance.now();
      if (ms > 0) sleepNs(BigInt(Math.ceil(ms * 1e6)), deadline, options.onDeadline);
    }
  }
  const readyOf = (list: Pollable[]) => new Uint32Array(list.flatMap((p, i) => (p.ready() ? [i] : [])));
  const soonestOf = (list: Pollable[]) => list.reduce((a, p) => (p.at < a.at ? p : a));
  /** Waits (suspending) until one of `list` may be ready: the first timer due, or a settled promise. */
  const waitAny = async (list: Pollable[]): Promise<void> => {
    const timers = list.filter((p) => !p.pending);
    const pending = list.flatMap((p) => (p.pending ? [p.pending.promise.catch(() => {})] : []));
    const at = timers.length ? soonestOf(timers).at : Number.POSITIVE_INFINITY;
    await Promise.race([sleepUntil(at), ...pending]);
  };
  const poll = (list: Pollable[]): Uint32Array | Promise<Uint32Array> => {
    if (list.length === 0) throw new Error('poll of an empty list');
    if (options.suspend) {
      return (async () => {
        for (;;) {
          const ready = readyOf(list);
          if (ready.length) return ready;
          await waitAny(list);
        }
      })();
    }
    for (;;) {
      const ready = readyOf(list);
      if (ready.length) return ready;
      // None is ready yet: wait for the one due first.
      soonestOf(list).block();
    }
  };

  /** A source of bytes: a stdin, or a file from a position. Null at the end. */
  type Source = (max: number) => Uint8Array | null;

  /** A stream: counted, and `onDrop` told once when the guest drops it. */
  class Stream extends Held {
    constructor(private readonly onDrop?: () => void) {
      super();
    }
    [symbolDispose](): void {
      super[symbolDispose]();
      this.onDrop?.();
    }
  }

  class InputStream extends Stream {
    private ended = false;
    constructor(
      private readonly source: Source,
      onDrop?: () => void,
    ) {
      super(onDrop);
    }
    read(len: bigint): Uint8Array {
      if (this.ended) throw closed;
      const max = Number(len > BigInt(CHUNK) ? BigInt(CHUNK) : len);
      if (max === 0) return new Uint8Array(0);
      work(max);
      const got = this.source(max);
      if (got === null) {
        this.ended = true;
        throw closed;
      }
      return got;
    }
    blockingRead(len: bigint): Uint8Array {
      return this.read(len);
    }
    skip(len: bigint): bigint {
      return BigInt(this.read(len).length);
    }
    blockingSkip(len: bigint): bigint {
      return this.skip(len);
    }
    subscribe(): Pollable {
      return new Pollable();
    }
  }

  /** A sink of bytes: stdout, stderr, or a file at a position (or its end). */
  type Sink = (chunk: Uint8Array) => void;

  class OutputStream extends Stream {
    constructor(
      private readonly sink: Sink,
      onDrop?: () => void,
    ) {
      super(onDrop);
    }
    checkWrite(): bigint {
      return BigInt(CHUNK);
    }
    write(contents: Uint8Array): void {
      work(contents.length);
      try {
        this.sink(contents);
      } catch (e) {
        if (typeof e === 'string') throw failed(e);
        throw e;
      }
    }
    blockingWriteAndFlush(contents: Uint8Array): void {
      this.write(contents);
    }
    flush(): void {}
    blockingFlush(): void {}
    subscribe(): Pollable {
      return new Pollable();
    }
    writeZeroes(len: bigint): void {
      // As a write, at most what check-write permits (a length past 2^32 was a RangeError, a trap).
      if (len > BigInt(CHUNK)) throw failed(`write-zeroes of ${len} bytes is more than check-write permits`);
      this.write(new Uint8Array(Number(len)));
    }
    blockingWriteZeroesAndFlush(len: bigint): void {
      this.writeZeroes(len);
    }
    splice(src: InputStream, len: bigint): bigint {
      const bytes = src.read(len);
      this.write(bytes);
      return BigInt(bytes.length);
    }
    blockingSplice(src: InputStream, len: bigint): bigint {
      return this.splice(src, len);
    }
  }

  const stdinSource = (): Source => {
    const s = options.stdin;
    if (s === undefined) return () => null;
    if (typeof s === 'function')
      return (max) => {
        const got = s(max);
        return got?.length ? got : null;
      };
    let at = 0;
    return (max) => {
      if (at >= s.length) return null;
      const out = s.subarray(at, at + max);
      at += out.length;
      return out;
    };
  };
  const stdin = new InputStream(stdinSource());
  const stdout = new OutputStream(options.stdout ?? (() => {}));
  const stderr = new OutputStream(options.stderr ?? (() => {}));

  interface DescriptorFlags {
    read?: boolean;
    write?: boolean;
    mutateDirectory?: boolean;
  }

  /** Entries the directory-entry streams the guest holds keep, together (the preview1 budget). */
  const listings = new Listings();
  class DirectoryEntryStream extends Held {
    private at = 0;
    /** `list` was counted in `listings` by its maker (readDirectory). */
    constructor(private list: { type: string; name: string }[]) {
      super();
    }
    [symbolDispose](): void {
      super[symbolDispose]();
      listings.give(this.list.length);
      this.list = [];
    }
    readDirectoryEntry(): { type: string; name: string } | undefined {
      return this.list[this.at++];
    }
  }

  class Descriptor extends Held {
    constructor(
      readonly node: FsNode,
      readonly flags: DescriptorFlags,
      /** The file as opened (host directories keep an fd per open file). */
      readonly file?: FsFile,
    ) {
      super();
    }
    private dir(): FsDir {
      if (this.node.kind !== 'dir') throw 'not-directory';
      return this.node;
    }
    /** The descriptor and the streams made from it that the guest still holds. */
    private holders = 1;
    private dropped = false;
    /**
     * The guest dropped the descriptor (jco's glue calls this): once its streams are dropped too,
     * a file opened for it is closed, so a host directory's fd is let go and an in-memory file's
     * bytes can be given back (a stream outlives its descriptor, and reads and writes on).
     */
    [symbolDispose](): void {
      super[symbolDispose]();
      // Once: the preopen is handed out by every get-directories, and each handle is dropped.
      if (this.dropped) return;
      this.dropped = true;
      this.release();
    }
    private release(): void {
      if (--this.holders !== 0) return;
      if (this.file && this.file !== this.node && 'close' in this.file) (this.file as FsOpenFile).close();
    }
    /** A stream of this descriptor holds its file until the stream is dropped. */
    private held(): () => void {
      roomForOne(); // for the stream the hold is made for
      this.holders++;
      let held = true;
      return () => {
        if (held) this.release();
        held = false;
      };
    }
    private openFile(): FsFile {
      if (this.node.kind !== 'file') throw 'is-directory';
      return this.file ?? this.node;
    }
    private mutate(): void {
      if (!this.flags.mutateDirectory) throw 'read-only';
    }
    readViaStream(offset: bigint): InputStream {
      const file = fs(() => this.openFile());
      if (!this.flags.read) throw 'bad-descriptor';
      let at = fileOffset(offset);
      return new InputStream((max) => {
        const buf = new Uint8Array(max);
        const n = fs(() => file.read(at, buf));
        if (n === 0) return null;
        at += n;
        return buf.subarray(0, n);
      }, this.held());
    }
    writeViaStream(offset: bigint): OutputStream {
      const file = fs(() => this.openFile());
      if (!this.flags.write) throw 'bad-descriptor';
      let at = fileOffset(offset);
      return new OutputStream((chunk) => {
        fs(() => filling(file, at));
        fs(() => file.write(at, chunk));
        at += chunk.length;
      }, this.held());
    }
    appendViaStream(): OutputStream {
      const file = fs(() => this.openFile());
      if (!this.flags.write) throw 'bad-descriptor';
      return new OutputStream((chunk) => void fs(() => file.write(Number(file.stat().size), chunk)), this.held());
    }
    advise(): void {}
    syncData(): void {
      this.sync();
    }
    sync(): void {
      try {
        options.onSync?.();
      } catch {
        throw 'io';
      }
    }
    getFlags(): DescriptorFlags {
      return { ...this.flags };
    }
    getType(): string {
      return typeOf(this.node.kind);
    }
    setSize(size: bigint): void {
      const file = fs(() => this.openFile());
      if (!this.flags.write) throw 'bad-descriptor';
      fs(() => filling(file, Number(size)));
      fs(() => file.truncate(Number(size)));
    }
    setTimes(atim: NewTimestamp, mtim: NewTimestamp): void {
      fs(() => this.node.setTimes(newTime(atim), newTime(mtim)));
    }
    read(length: bigint, offset: bigint): [Uint8Array, boolean] {
      const file = fs(() => this.openFile());
      if (!this.flags.read) throw 'bad-descriptor';
      const buf = new Uint8Array(Number(length > BigInt(CHUNK) ? BigInt(CHUNK) : length));
      work(buf.length);
      const at = fileOffset(offset);
      const n = fs(() => file.read(at, buf));
      return [buf.subarray(0, n), n === 0 || at + n >= Number(file.stat().size)];
    }
    write(buffer: Uint8Array, offset: bigint): bigint {
      const file = fs(() => this.openFile());
      if (!this.flags.write) throw 'bad-descriptor';
      work(buffer.length);
      const at = fileOffset(offset);
      fs(() => filling(file, at));
      return BigInt(fs(() => file.write(at, buffer)));
    }
    readDirectory(): DirectoryEntryStream {
      const dir = fs(() => this.dir());
      const list = fs(() => [...dir.entries()].map(([name, node]) => ({ type: typeOf(node.kind), name })));
      work(list.length * 32); // a listing costs its length
      // Each stream keeps its listing until dropped: 10,000 entries a call grew the host 409 MiB/s.
      fs(() => listings.take(list.length));
      try {
        return new DirectoryEntryStream(list);
      } catch (e) {
        listings.give(list.length); // too many resources held: the stream was not made
        throw e;
      }
    }
    createDirectoryAt(path: string): void {
      const r = fs(() => resolveAt(this.dir(), path, false, rootDir));
      if (r.node) throw 'exist';
      this.mutate();
      fs(() => r.parent.createDir(r.name));
    }
    stat() {
      return fs(() => statOf((this.file ?? this.node).stat()));
    }
    statAt(pathFlags: { symlinkFollow?: boolean }, path: string) {
      const r = fs(() => resolveAt(this.dir(), path, !!pathFlags.symlinkFollow, rootDir));
      if (!r.node) throw 'no-entry';
      if (r.mustBeDir && r.node.kind !== 'dir') throw 'not-directory';
      return fs(() => statOf(r.node!.stat()));
    }
    setTimesAt(pathFlags: { symlinkFollow?: boolean }, path: string, atim: NewTimestamp, mtim: NewTimestamp): void {
      const r = fs(() => resolveAt(this.dir(), path, !!pathFlags.symlinkFollow, rootDir));
      if (!r.node) throw 'no-entry';
      if (r.mustBeDir && r.node.kind !== 'dir') throw 'not-directory';
      this.mutate();
      fs(() => r.node!.setTimes(newTime(atim), newTime(mtim)));
    }
    linkAt(_oldFlags: { symlinkFollow?: boolean }, oldPath: string, newDesc: Descriptor, newPath: string): void {
      const src = fs(() => resolveAt(this.dir(), oldPath, false, rootDir));
      const dst = fs(() => resolveAt(newDesc.dir(), newPath, false, rootDir));
      if (!src.node) throw 'no-entry';
      if (src.mustBeDir && src.node.kind !== 'dir') throw 'not-directory';
      if (src.node.kind === 'dir') throw 'not-permitted';
      if (dst.node) throw 'exist';
      if (dst.mustBeDir) throw 'no-entry';
      newDesc.mutate();
      fs(() => dst.parent.link(dst.name, src.node!));
    }
    openAt(
      pathFlags: { symlinkFollow?: boolean },
      path: string,
      openFlags: { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean },
      flags: DescriptorFlags,
    ): Descriptor {
      const r = fs(() => resolveAt(this.dir(), path, !!pathFlags.symlinkFollow, rootDir));
      let node = r.node;
      const wantsWrite = !!flags.write;
      if (!node) {
        if (!openFlags.create) throw 'no-entry';
        if (r.mustBeDir) throw 'is-directory';
        if (openFlags.directory) throw 'invalid';
        this.mutate();
        node = fs(() => r.parent.createFile(r.name));
      } else {
        if (openFlags.create && openFlags.exclusive) throw 'exist';
        if (node.kind === 'symlink') throw 'loop';
        if ((openFlags.directory || r.mustBeDir) && node.kind !== 'dir') throw 'not-directory';
        if (node.kind === 'dir') {
          if (openFlags.create || openFlags.truncate || wantsWrite) throw 'is-directory';
        } else if (wantsWrite || openFlags.truncate) this.mutate();
      }
      const child: DescriptorFlags = {
        read: !!flags.read,
        write: wantsWrite && !!this.flags.mutateDirectory,
        mutateDirectory: !!flags.mutateDirectory && !!this.flags.mutateDirectory,
      };
      if (node.kind === 'dir') return new Descriptor(node, { ...child, mutateDirectory: !!this.flags.mutateDirectory });
      const file = node as FsFile;
      roomForOne(); // for the descriptor, before its file is opened
      const opened: FsFile = fs(() => file.open?.(wantsWrite || !!openFlags.truncate) ?? file);
      if (openFlags.truncate && r.node) {
        try {
          fs(() => opened.truncate(0));
        } catch (e) {
          if (opened !== file) (opened as FsOpenFile).close();
          throw e;
        }
      }
      return new Descriptor(node, child, opened);
    }
    readlinkAt(path: string): string {
      const r = fs(() => resolveAt(this.dir(), path, false, rootDir));
      if (!r.node) throw 'no-entry';
      if (r.node.kind !== 'symlink') throw 'invalid';
      return r.node.target;
    }
    removeDirectoryAt(path: string): void {
      const r = fs(() => resolveAt(this.dir(), path, false, rootDir));
      if (r.name === '.') throw 'invalid';
      if (r.name === '..') throw 'not-empty';
      if (!r.node) throw 'no-entry';
      if (r.node.kind !== 'dir') throw 'not-directory';
      this.mutate();
      fs(() => r.parent.rmdir(r.name));
    }
    renameAt(oldPath: string, newDesc: Descriptor, newPath: string): void {
      const src = fs(() => resolveAt(this.dir(), oldPath, false, rootDir));
      const dst = fs(() => resolveAt(newDesc.dir(), newPath, false, rootDir));
      if ([src.name, dst.name].some((n) => n === '.' || n === '..')) throw 'busy';
      if (!src.node) throw 'no-entry';
      if ((src.mustBeDir || dst.mustBeDir) && src.node.kind !== 'dir') throw 'not-directory';
      this.mutate();
      newDesc.mutate();
      fs(() => src.parent.rename(src.name, dst.parent, dst.name));
    }
    symlinkAt(oldPath: string, newPath: string): void {
      const r = fs(() => resolveAt(this.dir(), newPath, false, rootDir));
      if (r.node) throw 'exist';
      if (oldPath.length === 0) throw 'no-entry';
      if (r.mustBeDir) throw 'no-entry';
      this.mutate();
      // Any target may be stored (as on Linux); following an absolute one is refused at resolution.
      fs(() => r.parent.createSymlink(r.name, oldPath));
    }
    unlinkFileAt(path: string): void {
      const r = fs(() => resolveAt(this.dir(), path, false, rootDir));
      if (r.name === '.' || r.name === '..') throw 'is-directory';
      if (!r.node) throw 'no-entry';
      if (r.node.kind === 'dir') throw 'is-directory';
      if (r.mustBeDir) throw 'not-directory';
      this.mutate();
      fs(() => r.parent.unlink(r.name));
    }
    isSameObject(other: Descriptor): boolean {
      const s = (this.file ?? this.node).stat();
      const o = (other.file ?? other.node).stat();
      return s.dev === o.dev && s.ino === o.ino;
    }
    metadataHash(): { lower: bigint; upper: bigint } {
      const s = (this.file ?? this.node).stat();
      return { lower: s.ino, upper: s.dev };
    }
    metadataHashAt(pathFlags: { symlinkFollow?: boolean }, path: string): { lower: bigint; upper: bigint } {
      const r = fs(() => resolveAt(this.dir(), path, !!pathFlags.symlinkFollow, rootDir));
      if (!r.node) throw 'no-entry';
      const s = r.node.stat();
      return { lower: s.ino, upper: s.dev };
    }
  }

  const rootDir = options.root;
  const preopen = new Descriptor(rootDir, { read: true, write: false, mutateDirectory: true });
  const start = performance.now();
  const randomBytes = (len: bigint) => {
    work(Number(len));
    const out = new Uint8Array(Number(len));
    for (let i = 0; i < out.length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
    return out;
  };
  const randomU64 = () => new BigUint64Array(randomBytes(8n).buffer)[0];
  class TerminalInput {}
  class TerminalOutput {}

  const imports: Record<string, Record<string, unknown>> = {
    'wasi:cli/environment': {
      getEnvironment: () => Object.entries(options.env),
      getArguments: () => options.args,
      initialCwd: () => options.cwd,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => {
        throw new P2Exit(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode: (code: number) => {
        throw new P2Exit(code);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': {
      getTerminalStdin: () => (options.terminal?.stdin ? new TerminalInput() : undefined),
    },
    'wasi:cli/terminal-stdout': {
      getTerminalStdout: () => (options.terminal?.stdout ? new TerminalOutput() : undefined),
    },
    'wasi:cli/terminal-stderr': {
      getTerminalStderr: () => (options.terminal?.stderr ? new TerminalOutput() : undefined),
    },
    'wasi:clocks/wall-clock': {
      now: () => toDatetime(BigInt(Date.now()) * 1_000_000n),
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
    'wasi:clocks/monotonic-clock': {
      now: () => BigInt(Math.round((performance.now() - start) * 1e6)),
      resolution: () => 1000n,
      subscribeInstant: (when: bigint) => new Pollable(start + Number(when) / 1e6),
      subscribeDuration: (d: bigint) => new Pollable(performance.now() + Number(d) / 1e6),
    },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomU64(), randomU64()] },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:filesystem/preopens': { getDirectories: () => [[preopen, '/']] },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: () => undefined,
    },
  };
  // The wasi:http host counts its resources with the same class (non-enumerable: not an interface).
  Object.defineProperty(imports, HELD_RESOURCE, { value: Held });
  return imports;
}
