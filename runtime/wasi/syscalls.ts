// The 46 functions of wasi_snapshot_preview1 over one WasiContext. Each returns an errno on
// success paths and throws WasiError/FsError on failure; the wrapper in wasi.ts turns those into
// errno values in one place. u32 arguments are read with `>>> 0`; 64-bit ones arrive as BigInt.
// Struct layouts (witx): filestat 64, fdstat 24, prestat 8, dirent 24 + name, subscription 48,
// event 32, iovec 8.
import { BytesPending, fillWork, type FsNode, type FsOpenFile, type FsStat } from '../core/index.ts';
import {
  ALL_RIGHTS,
  Advice,
  Clockid,
  DIR_RIGHTS,
  Eventrwflags,
  Eventtype,
  FILE_RIGHTS,
  Fdflags,
  Filetype,
  Fstflags,
  Lookupflags,
  Oflags,
  Rights,
  Subclockflags,
  Whence,
} from './constants.ts';
import { Errno } from './errno.ts';
import type { Descriptor } from './descriptor.ts';
import type { FdTable } from './fd-table.ts';
import type { GuestMemory } from './guest-memory.ts';
import { DirDescriptor, Listings } from './dir-descriptor.ts';
import { FileDescriptor } from './file-descriptor.ts';
import { resolvePath } from './path-resolver.ts';
import { ProcExit } from './proc-exit.ts';
import { StdinDescriptor, StdoutDescriptor } from './stdio-descriptor.ts';
import type { WasiContext } from './wasi-context.ts';
import { WasiError } from './wasi-error.ts';

export type Syscall = (...args: any[]) => number;

const encoder = new TextEncoder();
/** Rights that change a file's contents: an fd with any of them opens the host file for writing. */
const WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const fail = (errno: Errno, why: string): never => {
  throw new WasiError(errno, why);
};

function need(d: Descriptor, rights: number): void {
  if ((d.rightsBase & rights) !== rights) fail(Errno.NOTCAPABLE, 'the fd lacks the right for this call');
}

// Under a read-only preopen every mutation fails with ROFS, what Linux gives on a read-only mount
// and what the filesystem contract itself uses. (wasmtime answers PERM, its p2 `not-permitted`, for
// a preopen without DirPerms::MUTATE; rights are left whole so wasi-libc's open() still requests
// write access and gets the clearer ROFS instead of a later NOTCAPABLE on fd_write.)
function writable(d: Descriptor): void {
  if (d.readOnly) fail(Errno.ROFS, 'read-only file system');
}

function filetypeOf(kind: FsNode['kind']): number {
  return kind === 'file' ? Filetype.REGULAR_FILE : kind === 'dir' ? Filetype.DIRECTORY : Filetype.SYMBOLIC_LINK;
}

function toOffset(v: bigint): number {
  if (v < 0n) fail(Errno.INVAL, 'negative offset');
  if (v > MAX_SAFE) fail(Errno.FBIG, 'offset too large');
  return Number(v);
}

// Helpers at module level, not per instance: an instance is cheap to create (a hello run is
// dominated by setup), and none of them needs more than what it is passed.
function writeFilestat(mem: GuestMemory, ptr: number, st: FsStat): void {
  mem.bytes(ptr, 64).fill(0);
  mem.setU64(ptr, st.dev);
  mem.setU64(ptr + 8, st.ino);
  mem.setU8(ptr + 16, filetypeOf(st.kind));
  mem.setU64(ptr + 24, st.nlink);
  mem.setU64(ptr + 32, st.size);
  mem.setU64(ptr + 40, st.atim);
  mem.setU64(ptr + 48, st.mtim);
  mem.setU64(ptr + 56, st.ctim);
}

function clockNow(ctx: WasiContext, id: number): bigint {
  switch (id) {
    case Clockid.REALTIME:
      return ctx.now();
    case Clockid.MONOTONIC:
      return ctx.monotonic();
    case Clockid.PROCESS_CPUTIME_ID:
    case Clockid.THREAD_CPUTIME_ID:
      // No CPU-time source in a browser: time since the instance was created stands in.
      return ctx.monotonic() - ctx.startedAt;
    default:
      return fail(Errno.INVAL, `unknown clock ${id}`);
  }
}

function setTimes(ctx: WasiContext, node: FsNode, atim: bigint, mtim: bigint, flags: number): void {
  if (flags & ~0xf) fail(Errno.INVAL, 'unknown fstflags');
  if ((flags & Fstflags.ATIM && flags & Fstflags.ATIM_NOW) || (flags & Fstflags.MTIM && flags & Fstflags.MTIM_NOW)) {
    fail(Errno.INVAL, 'both a time and NOW given');
  }
  const now = flags & (Fstflags.ATIM_NOW | Fstflags.MTIM_NOW) ? ctx.now() : 0n;
  const a = flags & Fstflags.ATIM_NOW ? now : flags & Fstflags.ATIM ? atim : null;
  const m = flags & Fstflags.MTIM_NOW ? now : flags & Fstflags.MTIM ? mtim : null;
  if (a !== null || m !== null) node.setTimes(a, m);
}

function nodeOf(d: Descriptor): FsNode | undefined {
  return d instanceof FileDescriptor ? d.file : d instanceof DirDescriptor ? d.dir : undefined;
}

function writeStrings(mem: GuestMemory, list: Uint8Array[], ptrsPtr: number, bufPtr: number): number {
  let off = bufPtr;
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    mem.setU32(ptrsPtr + i * 4, off);
    mem.bytes(off, s.length).set(s);
    off += s.length;
  }
  return Errno.SUCCESS;
}

function sizes(mem: GuestMemory, list: Uint8Array[], countPtr: number, sizePtr: number): number {
  let n = 0;
  for (const s of list) n += s.length;
  mem.setU32(countPtr, list.length);
  mem.setU32(sizePtr, n);
  return Errno.SUCCESS;
}

function notSocket(table: FdTable, fd: number): number {
  table.get(fd >>> 0);
  return fail(Errno.NOTSOCK, 'sockets are not supported');
}

function readFile(d: FileDescriptor, bufs: Uint8Array[], position: number): number {
  let total = 0;
  for (const b of bufs) {
    let n: number;
    try {
      n = d.file.read(position + total, b);
    } catch (e) {
      // Bytes still to be loaded (BytesPending, see runtime/core): a short read of what came.
      if (total > 0 && e instanceof BytesPending) break;
      throw e;
    }
    total += n;
    if (n < b.length) break;
  }
  return total;
}

function writeFile(d: FileDescriptor, bufs: Uint8Array[], position: number): number {
  let total = 0;
  for (const b of bufs) {
    if (b.length === 0) continue;
    d.file.write(position + total, b);
    total += b.length;
  }
  return total;
}

/** Subscriptions one poll_oneoff may pass (the fd table's size). */
export const MAX_SUBSCRIPTIONS = 65_536;

export function createSyscalls(ctx: WasiContext): Record<string, Syscall> {
  const mem = ctx.memory;
  const table = ctx.table;
  const work = ctx.work;
  const listings = new Listings();
  /** A file made to reach `end` is zero-filled up to it: host work no guest memory access counts. */
  const filling = (d: FileDescriptor, end: number): void => fillWork(work, d.file, end);
  /** fd_sync / fd_datasync: the host's durability hook, if any (its failure is the guest's EIO). */
  const durable = (): number => {
    if (!ctx.onSync) return Errno.SUCCESS;
    try {
      ctx.onSync();
    } catch (e) {
      return fail(Errno.IO, `the host could not make the writes durable: ${(e as Error)?.message ?? e}`);
    }
    return Errno.SUCCESS;
  };

  const sys = {
    args_get(argv: number, buf: number): number {
      return writeStrings(mem, ctx.args, argv >>> 0, buf >>> 0);
    },
    args_sizes_get(countPtr: number, sizePtr: number): number {
      return sizes(mem, ctx.args, countPtr >>> 0, sizePtr >>> 0);
    },
    environ_get(environ: number, buf: number): number {
      return writeStrings(mem, ctx.env, environ >>> 0, buf >>> 0);
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      return sizes(mem, ctx.env, countPtr >>> 0, sizePtr >>> 0);
    },

    clock_res_get(id: number, resPtr: number): number {
      clockNow(ctx, id >>> 0); // validates the id
      mem.setU64(resPtr >>> 0, 1000n);
      return Errno.SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, timePtr: number): number {
      mem.setU64(timePtr >>> 0, clockNow(ctx, id >>> 0));
      return Errno.SUCCESS;
    },

    fd_advise(fd: number, _offset: bigint, _len: bigint, advice: number): number {
      table.getFile(fd >>> 0, Rights.FD_ADVISE, Errno.SPIPE);
      if (advice >>> 0 > Advice.NOREUSE) fail(Errno.INVAL, 'unknown advice');
      return Errno.SUCCESS;
    },
    fd_allocate(fd: number, offset: bigint, len: bigint): number {
      const d = table.getFile(fd >>> 0, Rights.FD_ALLOCATE, Errno.SPIPE);
      writable(d);
      const end = toOffset(offset) + toOffset(len);
      if (end > Number.MAX_SAFE_INTEGER) fail(Errno.FBIG, 'file too large');
      filling(d, end);
      if (BigInt(end) > d.file.stat().size) d.file.truncate(end);
      return Errno.SUCCESS;
    },
    fd_close(fd: number): number {
      table.close(fd >>> 0);
      return Errno.SUCCESS;
    },
    fd_datasync(fd: number): number {
      need(table.get(fd >>> 0), Rights.FD_DATASYNC);
      return durable();
    },
    fd_fdstat_get(fd: number, ptr: number): number {
      const d = table.get(fd >>> 0);
      ptr >>>= 0;
      mem.bytes(ptr, 24).fill(0);
      mem.setU8(ptr, d.filetype);
      mem.setU16(ptr + 2, d.fdflags);
      // Rights fit in 30 bits: the high words stay 0 (no BigInt on this hot call).
      mem.setU32(ptr + 8, d.rightsBase >>> 0);
      mem.setU32(ptr + 16, d.rightsInheriting >>> 0);
      return Errno.SUCCESS;
    },
    fd_fdstat_set_flags(fd: number, flags: number): number {
      const d = table.get(fd >>> 0, Rights.FD_FDSTAT_SET_FLAGS);
      flags &= 0xffff;
      if (flags & ~0x1f) fail(Errno.INVAL, 'unknown fdflags');
      d.fdflags = flags;
      return Errno.SUCCESS;
    },
    fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint): number {
      const d = table.get(fd >>> 0);
      const b = BigInt.asUintN(64, base);
      const i = BigInt.asUintN(64, inheriting);
      // Rights can only be dropped, never gained.
      if (b & ~BigInt(d.rightsBase) || i & ~BigInt(d.rightsInheriting)) fail(Errno.NOTCAPABLE, 'cannot add rights');
      d.rightsBase = Number(b);
      d.rightsInheriting = Number(i);
      return Errno.SUCCESS;
    },
    fd_filestat_get(fd: number, ptr: number): number {
      const d = table.get(fd >>> 0, Rights.FD_FILESTAT_GET);
      const node = nodeOf(d);
      if (node) {
        writeFilestat(mem, ptr >>> 0, node.stat());
      } else {
        mem.bytes(ptr >>> 0, 64).fill(0);
        mem.setU8((ptr >>> 0) + 16, d.filetype);
      }
      return Errno.SUCCESS;
    },
    fd_filestat_set_size(fd: number, size: bigint): number {
      const d = table.getFile(fd >>> 0, Rights.FD_FILESTAT_SET_SIZE, Errno.INVAL);
      writable(d);
      filling(d, toOffset(size));
      d.file.truncate(toOffset(size));
      return Errno.SUCCESS;
    },
    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, flags: number): number {
      const d = table.get(fd >>> 0, Rights.FD_FILESTAT_SET_TIMES);
      const node = nodeOf(d);
      if (!node) return Errno.SUCCESS; // stdio: nothing to stamp
      writable(d);
      setTimes(ctx, node, atim, mtim, flags & 0xffff);
      return Errno.SUCCESS;
    },
    fd_pread(fd: number, iovs: number, iovsLen: number, offset: bigint, nreadPtr: number): number {
      const d = table.getFile(fd >>> 0, Rights.FD_READ, Errno.SPIPE);
      const n = readFile(d, mem.iovecs(iovs >>> 0, iovsLen >>> 0), toOffset(offset));
      mem.setU32(nreadPtr >>> 0, n);
      return Errno.SUCCESS;
    },
    fd_prestat_get(fd: number, ptr: number): number {
      const d = table.get(fd >>> 0);
      if (!(d instanceof DirDescriptor) || d.preopenPath === undefined) return fail(Errno.BADF, 'not a preopen');
      mem.setU32(ptr >>> 0, 0); // tag DIR, padding
      mem.setU32((ptr >>> 0) + 4, encoder.encode(d.preopenPath).length);
      return Errno.SUCCESS;
    },
    fd_prestat_dir_name(fd: number, pathPtr: number, pathLen: number): number {
      const d = table.get(fd >>> 0);
      if (!(d instanceof DirDescriptor) || d.preopenPath === undefined) return fail(Errno.BADF, 'not a preopen');
      const name = encoder.encode(d.preopenPath);
      if (pathLen >>> 0 < name.length) fail(Errno.NAMETOOLONG, 'buffer too small for the preopen name');
      mem.bytes(pathPtr >>> 0, name.length).set(name);
      return Errno.SUCCESS;
    },
    fd_pwrite(fd: number, iovs: number, iovsLen: number, offset: bigint, nwrittenPtr: number): number {
      const d = table.getFile(fd >>> 0, Rights.FD_WRITE, Errno.SPIPE);
      writable(d);
      filling(d, toOffset(offset));
      const n = writeFile(d, mem.iovecs(iovs >>> 0, iovsLen >>> 0), toOffset(offset));
      mem.setU32(nwrittenPtr >>> 0, n);
      return Errno.SUCCESS;
    },
    fd_read(fd: number, iovs: number, iovsLen: number, nreadPtr: number): number {
      const d = table.get(fd >>> 0);
      if (d instanceof DirDescriptor) fail(Errno.ISDIR, 'fd is a directory');
      need(d, Rights.FD_READ);
      const bufs = mem.iovecs(iovs >>> 0, iovsLen >>> 0);
      let total = 0;
      if (d instanceof FileDescriptor) {
        total = readFile(d, bufs, d.position);
        d.position += total;
      } else if (d instanceof StdinDescriptor) {
        // Block for the first bytes only (unless NONBLOCK); then take what is there, as read(2).
        const nonblocking = (d.fdflags & Fdflags.NONBLOCK) !== 0;
        for (const b of bufs) {
          if (b.length === 0) continue;
          const chunk = d.read(b.length, nonblocking || total > 0);
          b.set(chunk);
          total += chunk.length;
          if (chunk.length < b.length) break;
        }
        if (total === 0 && nonblocking && d.wouldBlock()) fail(Errno.AGAIN, 'no input yet');
      } else {
        fail(Errno.BADF, 'fd is not readable');
      }
      mem.setU32(nreadPtr >>> 0, total);
      return Errno.SUCCESS;
    },
    fd_readdir(fd: number, buf: number, bufLen: number, signedCookie: bigint, bufusedPtr: number): number {
      const d = table.getDir(fd >>> 0, Rights.FD_READDIR);
      // A u64 arrives as a signed i64: one past 2^63 was negative and read before the listing.
      const cookie = BigInt.asUintN(64, signedCookie);
      buf >>>= 0;
      bufLen >>>= 0;
      if (cookie === 0n || !d.listing) {
        const entries = Array.from(d.dir.entries());
        work?.(entries.length * 32); // a listing costs its length, however little the buffer takes
        d.keepListing(entries, listings);
      }
      const listing = d.listing!;
      const count = listing.length + 2;
      let used = 0;
      const header = new Uint8Array(24);
      const hv = new DataView(header.buffer);
      for (let i = cookie > BigInt(count) ? count : Number(cookie); i < count && used < bufLen; i++) {
        let name: string;
        let node: FsNode;
        if (i === 0) [name, node] = ['.', d.dir];
        else if (i === 1) [name, node] = ['..', d.parent];
        else [name, node] = listing[i - 2]!;
        const nameBytes = encoder.encode(name);
        hv.setBigUint64(0, BigInt(i + 1), true);
        hv.setBigUint64(8, node.stat().ino, true);
        hv.setUint32(16, nameBytes.length, true);
        hv.setUint32(20, filetypeOf(node.kind), true); // d_type u8 + 3 bytes padding
        // An entry that does not fit is written truncated; bufused == buf_len tells the guest.
        const h = Math.min(24, bufLen - used);
        mem.bytes(buf + used, h).set(header.subarray(0, h));
        used += h;
        const n = Math.min(nameBytes.length, bufLen - used);
        if (n > 0) mem.bytes(buf + used, n).set(nameBytes.subarray(0, n));
        used += n;
      }
      mem.setU32(bufusedPtr >>> 0, used);
      return Errno.SUCCESS;
    },
    fd_renumber(fd: number, to: number): number {
      table.renumber(fd >>> 0, to >>> 0);
      return Errno.SUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newOffsetPtr: number): number {
      const d = table.get(fd >>> 0);
      if (d instanceof StdinDescriptor || d instanceof StdoutDescriptor) fail(Errno.SPIPE, 'cannot seek a stream');
      // lseek(fd, 0, SEEK_CUR) is a tell: FD_TELL suffices (as in wasmtime).
      need(d, offset === 0n && whence === Whence.CUR ? Rights.FD_TELL : Rights.FD_SEEK);
      if (!(d instanceof FileDescriptor)) return fail(Errno.BADF, 'not a file');
      const off = Number(BigInt.asIntN(64, offset));
      let pos: number;
      switch (whence >>> 0) {
        case Whence.SET:
          pos = off;
          break;
        case Whence.CUR:
          pos = d.position + off;
          break;
        case Whence.END:
          pos = Number(d.file.stat().size) + off;
          break;
        default:
          return fail(Errno.INVAL, 'unknown whence');
      }
      if (pos < 0) fail(Errno.INVAL, 'negative position');
      if (pos > Number.MAX_SAFE_INTEGER) fail(Errno.OVERFLOW, 'position too large');
      d.position = pos;
      mem.setU64(newOffsetPtr >>> 0, BigInt(pos));
      return Errno.SUCCESS;
    },
    fd_sync(fd: number): number {
      need(table.get(fd >>> 0), Rights.FD_SYNC);
      return durable();
    },
    fd_tell(fd: number, ptr: number): number {
      const d = table.get(fd >>> 0);
      if (d instanceof StdinDescriptor || d instanceof StdoutDescriptor) fail(Errno.SPIPE, 'cannot tell a stream');
      need(d, Rights.FD_TELL);
      if (!(d instanceof FileDescriptor)) return fail(Errno.BADF, 'not a file');
      mem.setU64(ptr >>> 0, BigInt(d.position));
      return Errno.SUCCESS;
    },
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
      const d = table.get(fd >>> 0);
      if (d instanceof DirDescriptor) fail(Errno.BADF, 'fd is a directory');
      need(d, Rights.FD_WRITE);
      let total = 0;
      if (d instanceof StdoutDescriptor) {
        // The sink keeps the chunk: it gets a copy, gathered in one pass.
        if (d.sink) {
          const chunk = mem.gather(iovs >>> 0, iovsLen >>> 0);
          total = chunk.length;
          if (total > 0) d.sink(chunk);
        } else total = mem.iovecsLength(iovs >>> 0, iovsLen >>> 0);
      } else if (d instanceof FileDescriptor) {
        writable(d);
        const bufs = mem.iovecs(iovs >>> 0, iovsLen >>> 0);
        if (d.fdflags & Fdflags.APPEND) d.position = Number(d.file.stat().size);
        filling(d, d.position);
        total = writeFile(d, bufs, d.position);
        d.position += total;
      } else {
        fail(Errno.BADF, 'fd is not writable');
      }
      mem.setU32(nwrittenPtr >>> 0, total);
      return Errno.SUCCESS;
    },

    path_create_directory(fd: number, pathPtr: number, pathLen: number): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_CREATE_DIRECTORY);
      const r = resolvePath(d.dir, mem.path(pathPtr >>> 0, pathLen >>> 0), false, d.root);
      if (r.node) fail(Errno.EXIST, `${r.name} exists`);
      writable(d);
      r.parent.createDir(r.name);
      return Errno.SUCCESS;
    },
    path_filestat_get(fd: number, flags: number, pathPtr: number, pathLen: number, ptr: number): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_FILESTAT_GET);
      const r = resolvePath(
        d.dir,
        mem.path(pathPtr >>> 0, pathLen >>> 0),
        (flags & Lookupflags.SYMLINK_FOLLOW) !== 0,
        d.root,
      );
      if (!r.node) return fail(Errno.NOENT, `${r.name} does not exist`);
      if (r.mustBeDir && r.node.kind !== 'dir') fail(Errno.NOTDIR, `${r.name} is not a directory`);
      writeFilestat(mem, ptr >>> 0, r.node.stat());
      return Errno.SUCCESS;
    },
    path_filestat_set_times(
      fd: number,
      flags: number,
      pathPtr: number,
      pathLen: number,
      atim: bigint,
      mtim: bigint,
      fstFlags: number,
    ): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_FILESTAT_SET_TIMES);
      const r = resolvePath(
        d.dir,
        mem.path(pathPtr >>> 0, pathLen >>> 0),
        (flags & Lookupflags.SYMLINK_FOLLOW) !== 0,
        d.root,
      );
      if (!r.node) return fail(Errno.NOENT, `${r.name} does not exist`);
      if (r.mustBeDir && r.node.kind !== 'dir') fail(Errno.NOTDIR, `${r.name} is not a directory`);
      writable(d);
      setTimes(ctx, r.node, atim, mtim, fstFlags & 0xffff);
      return Errno.SUCCESS;
    },
    path_link(
      oldFd: number,
      oldFlags: number,
      oldPathPtr: number,
      oldPathLen: number,
      newFd: number,
      newPathPtr: number,
      newPathLen: number,
    ): number {
      const od = table.getDir(oldFd >>> 0, Rights.PATH_LINK_SOURCE);
      const nd = table.getDir(newFd >>> 0, Rights.PATH_LINK_TARGET);
      const src = resolvePath(
        od.dir,
        mem.path(oldPathPtr >>> 0, oldPathLen >>> 0),
        (oldFlags & Lookupflags.SYMLINK_FOLLOW) !== 0,
        od.root,
      );
      const dst = resolvePath(nd.dir, mem.path(newPathPtr >>> 0, newPathLen >>> 0), false, nd.root);
      if (!src.node) return fail(Errno.NOENT, `${src.name} does not exist`);
      if (src.mustBeDir && src.node.kind !== 'dir') fail(Errno.NOTDIR, `${src.name} is not a directory`);
      if (src.node.kind === 'dir') fail(Errno.PERM, 'hard link to a directory');
      if (dst.node) fail(Errno.EXIST, `${dst.name} exists`);
      if (dst.mustBeDir) fail(Errno.NOENT, `${dst.name}/ names no directory`);
      writable(od);
      writable(nd);
      dst.parent.link(dst.name, src.node);
      return Errno.SUCCESS;
    },
    path_open(
      fd: number,
      dirflags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      rightsBase: bigint,
      rightsInheriting: bigint,
      fdflags: number,
      fdPtr: number,
    ): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_OPEN);
      oflags &= 0xffff;
      const creat = (oflags & Oflags.CREAT) !== 0;
      const trunc = (oflags & Oflags.TRUNC) !== 0;
      const directory = (oflags & Oflags.DIRECTORY) !== 0;
      if (creat) need(d, Rights.PATH_CREATE_FILE);
      if (trunc) need(d, Rights.PATH_FILESTAT_SET_SIZE);
      // Rights asked for beyond what the directory hands down are dropped (wasi-libc masks the
      // same way); a later call needing them fails with NOTCAPABLE.
      // ALL_RIGHTS lies in the low 32 bits, so those are all that matter.
      const base = Number(BigInt.asUintN(32, rightsBase)) & ALL_RIGHTS & d.rightsInheriting;
      const inheriting = Number(BigInt.asUintN(32, rightsInheriting)) & ALL_RIGHTS & d.rightsInheriting;
      const wantsWrite = (base & Rights.FD_WRITE) !== 0;
      const r = resolvePath(
        d.dir,
        mem.path(pathPtr >>> 0, pathLen >>> 0),
        (dirflags & Lookupflags.SYMLINK_FOLLOW) !== 0,
        d.root,
      );
      let node = r.node;
      if (!node) {
        if (!creat) return fail(Errno.NOENT, `${r.name} does not exist`);
        if (r.mustBeDir) fail(Errno.ISDIR, `cannot create ${r.name}/ as a file`);
        if (directory) fail(Errno.INVAL, 'CREAT with DIRECTORY');
        writable(d);
        node = r.parent.createFile(r.name);
      } else {
        if (creat && oflags & Oflags.EXCL) fail(Errno.EXIST, `${r.name} exists`);
        // Without SYMLINK_FOLLOW the last component is not followed: O_NOFOLLOW gives ELOOP on Linux.
        if (node.kind === 'symlink') return fail(Errno.LOOP, `${r.name} is a symlink`);
        if ((directory || r.mustBeDir) && node.kind !== 'dir') fail(Errno.NOTDIR, `${r.name} is not a directory`);
        if (node.kind === 'dir') {
          // Write rights on a directory: ISDIR, with or without DIRECTORY, as Linux answers
          // open(dir, O_WRONLY | O_DIRECTORY) and wasmtime a directory opened with FD_WRITE.
          if (creat || trunc || wantsWrite) fail(Errno.ISDIR, `${r.name} is a directory`);
        } else if (wantsWrite || trunc) writable(d);
      }
      let opened: Descriptor;
      if (node.kind === 'dir') {
        opened = new DirDescriptor(node, r.nodeParent, undefined, base & DIR_RIGHTS, inheriting, d.readOnly, d.root);
      } else {
        // A file is opened where the filesystem holds open files (host directories): the fd then
        // keeps its inode through a rename or unlink of the name, as on POSIX.
        const file = node.open?.(!d.readOnly && (trunc || (base & WRITE_RIGHTS) !== 0)) ?? node;
        try {
          if (trunc && r.node) file.truncate(0);
        } catch (e) {
          if (file !== node) (file as FsOpenFile).close();
          throw e;
        }
        opened = new FileDescriptor(file, base & FILE_RIGHTS, inheriting, d.readOnly);
      }
      opened.fdflags = fdflags & 0x1f;
      mem.setU32(fdPtr >>> 0, table.insert(opened));
      return Errno.SUCCESS;
    },
    path_readlink(
      fd: number,
      pathPtr: number,
      pathLen: number,
      buf: number,
      bufLen: number,
      bufusedPtr: number,
    ): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_READLINK);
      const r = resolvePath(d.dir, mem.path(pathPtr >>> 0, pathLen >>> 0), false, d.root);
      if (!r.node) return fail(Errno.NOENT, `${r.name} does not exist`);
      if (r.node.kind !== 'symlink') return fail(Errno.INVAL, `${r.name} is not a symlink`);
      const target = encoder.encode(r.node.target);
      const n = Math.min(target.length, bufLen >>> 0);
      mem.bytes(buf >>> 0, n).set(target.subarray(0, n));
      mem.setU32(bufusedPtr >>> 0, n);
      return Errno.SUCCESS;
    },
    path_remove_directory(fd: number, pathPtr: number, pathLen: number): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_REMOVE_DIRECTORY);
      const r = resolvePath(d.dir, mem.path(pathPtr >>> 0, pathLen >>> 0), false, d.root);
      if (r.name === '.') fail(Errno.INVAL, 'cannot remove "."');
      if (r.name === '..') fail(Errno.NOTEMPTY, 'cannot remove ".."');
      if (!r.node) return fail(Errno.NOENT, `${r.name} does not exist`);
      if (r.node.kind !== 'dir') fail(Errno.NOTDIR, `${r.name} is not a directory`);
      writable(d);
      r.parent.rmdir(r.name);
      return Errno.SUCCESS;
    },
    path_rename(
      fd: number,
      oldPathPtr: number,
      oldPathLen: number,
      newFd: number,
      newPathPtr: number,
      newPathLen: number,
    ): number {
      const od = table.getDir(fd >>> 0, Rights.PATH_RENAME_SOURCE);
      const nd = table.getDir(newFd >>> 0, Rights.PATH_RENAME_TARGET);
      const src = resolvePath(od.dir, mem.path(oldPathPtr >>> 0, oldPathLen >>> 0), false, od.root);
      const dst = resolvePath(nd.dir, mem.path(newPathPtr >>> 0, newPathLen >>> 0), false, nd.root);
      if (src.name === '.' || src.name === '..' || dst.name === '.' || dst.name === '..') {
        fail(Errno.BUSY, 'cannot rename "." or ".."');
      }
      if (!src.node) return fail(Errno.NOENT, `${src.name} does not exist`);
      if ((src.mustBeDir || dst.mustBeDir) && src.node.kind !== 'dir')
        fail(Errno.NOTDIR, `${src.name} is not a directory`);
      writable(od);
      writable(nd);
      src.parent.rename(src.name, dst.parent, dst.name);
      return Errno.SUCCESS;
    },
    path_symlink(oldPathPtr: number, oldPathLen: number, fd: number, newPathPtr: number, newPathLen: number): number {
      const target = mem.path(oldPathPtr >>> 0, oldPathLen >>> 0);
      const d = table.getDir(fd >>> 0, Rights.PATH_SYMLINK);
      const r = resolvePath(d.dir, mem.path(newPathPtr >>> 0, newPathLen >>> 0), false, d.root);
      if (r.node) fail(Errno.EXIST, `${r.name} exists`);
      if (target.length === 0) fail(Errno.NOENT, 'empty symlink target');
      if (r.mustBeDir) fail(Errno.NOENT, `${r.name}/ names no directory`);
      writable(d);
      // Any target may be stored (as on Linux); following an absolute one is refused at resolution.
      r.parent.createSymlink(r.name, target);
      return Errno.SUCCESS;
    },
    path_unlink_file(fd: number, pathPtr: number, pathLen: number): number {
      const d = table.getDir(fd >>> 0, Rights.PATH_UNLINK_FILE);
      const r = resolvePath(d.dir, mem.path(pathPtr >>> 0, pathLen >>> 0), false, d.root);
      if (r.name === '.' || r.name === '..') fail(Errno.ISDIR, `${r.name} is a directory`);
      if (!r.node) return fail(Errno.NOENT, `${r.name} does not exist`);
      if (r.node.kind === 'dir') fail(Errno.ISDIR, `${r.name} is a directory`);
      if (r.mustBeDir) fail(Errno.NOTDIR, `${r.name} is not a directory`);
      writable(d);
      r.parent.unlink(r.name);
      return Errno.SUCCESS;
    },

    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): number {
      inPtr >>>= 0;
      outPtr >>>= 0;
      nsubs >>>= 0;
      if (nsubs === 0) fail(Errno.INVAL, 'no subscriptions');
      // As many as a process may have fds: each becomes objects here (3 million took 0.68 GB).
      if (nsubs > MAX_SUBSCRIPTIONS) fail(Errno.INVAL, `${nsubs} subscriptions (at most ${MAX_SUBSCRIPTIONS})`);
      type Ev = { userdata: bigint; error: number; type: number; nbytes: bigint; flags: number };
      const ready: Ev[] = [];
      const clocks: { userdata: bigint; remaining: bigint }[] = [];
      // Reads of stdin from a pull source that has nothing yet: ready only when it answers.
      const waiting: { userdata: bigint; d: StdinDescriptor }[] = [];
      const stdinEvent = (userdata: bigint, d: StdinDescriptor): Ev | undefined => {
        const r = d.readiness();
        if (!r.ready) return undefined;
        return {
          userdata,
          error: 0,
          type: Eventtype.FD_READ,
          nbytes: BigInt(r.nbytes),
          flags: r.hangup ? Eventrwflags.FD_READWRITE_HANGUP : 0,
        };
      };
      for (let i = 0; i < nsubs; i++) {
        const s = inPtr + i * 48;
        const userdata = mem.u64(s);
        const tag = mem.u8At(s + 8);
        if (tag === Eventtype.CLOCK) {
          const id = mem.u32(s + 16);
          const timeout = mem.u64(s + 24);
          const flags = mem.u16(s + 40);
          let now: bigint;
          try {
            now = clockNow(ctx, id);
          } catch (e) {
            if (!(e instanceof WasiError)) throw e;
            ready.push({ userdata, error: e.errno, type: tag, nbytes: 0n, flags: 0 });
            continue;
          }
          const remaining = flags & Subclockflags.SUBSCRIPTION_CLOCK_ABSTIME ? timeout - now : timeout;
          clocks.push({ userdata, remaining });
        } else if (tag === Eventtype.FD_READ || tag === Eventtype.FD_WRITE) {
          // Files and stdout never block: they are ready at once. Stdin is ready when it has bytes or ended.
          let nbytes = 0n;
          let error: number = Errno.SUCCESS;
          try {
            const d = table.get(mem.u32(s + 16), Rights.POLL_FD_READWRITE);
            if (tag === Eventtype.FD_READ) {
              if (d instanceof FileDescriptor) {
                const left = d.file.stat().size - BigInt(d.position);
                nbytes = left > 0n ? left : 0n;
              } else if (d instanceof StdinDescriptor) {
                const ev = stdinEvent(userdata, d);
                if (ev) ready.push(ev);
                else waiting.push({ userdata, d });
                continue;
              } else error = Errno.BADF;
            } else if (!(d instanceof FileDescriptor || d instanceof StdoutDescriptor)) error = Errno.BADF;
          } catch (e) {
            if (!(e instanceof WasiError)) throw e;
            error = e.errno;
          }
          ready.push({ userdata, error, type: tag, nbytes, flags: 0 });
        } else {
          return fail(Errno.INVAL, `unknown subscription type ${tag}`);
        }
      }
      let soonest: bigint | undefined;
      for (const c of clocks) if (soonest === undefined || c.remaining < soonest) soonest = c.remaining;
      let fired = 0n; // clocks with at most this much remaining fire
      if (ready.length === 0 && waiting.length === 0) {
        ctx.sleep(soonest!);
        fired = soonest!;
      } else if (ready.length === 0) {
        // Ask the waiting sources again between short sleeps, until one answers or a clock is due.
        const start = ctx.monotonic();
        let slice = 1_000_000n;
        for (;;) {
          for (const w of waiting) {
            const ev = stdinEvent(w.userdata, w.d);
            if (ev) ready.push(ev);
          }
          if (ready.length > 0) break;
          const left = soonest === undefined ? slice : soonest - (ctx.monotonic() - start);
          if (left <= 0n) {
            fired = soonest!;
            break;
          }
          ctx.blockingSleep(left < slice ? left : slice);
          if (slice < 50_000_000n) slice *= 2n;
        }
      }
      for (const c of clocks) {
        if (c.remaining <= fired)
          ready.push({ userdata: c.userdata, error: 0, type: Eventtype.CLOCK, nbytes: 0n, flags: 0 });
      }
      ready.forEach((ev, j) => {
        const e = outPtr + j * 32;
        mem.bytes(e, 32).fill(0);
        mem.setU64(e, ev.userdata);
        mem.setU16(e + 8, ev.error);
        mem.setU8(e + 10, ev.type);
        mem.setU64(e + 16, ev.nbytes);
        mem.setU16(e + 24, ev.flags);
      });
      mem.setU32(neventsPtr >>> 0, ready.length);
      return Errno.SUCCESS;
    },

    proc_exit(code: number): number {
      throw new ProcExit(code >>> 0);
    },
    proc_raise(_sig: number): number {
      return fail(Errno.NOSYS, 'signals are not supported');
    },
    sched_yield(): number {
      return Errno.SUCCESS;
    },
    random_get(buf: number, len: number): number {
      const view = mem.bytes(buf >>> 0, len >>> 0);
      if (mem.isShared()) {
        // getRandomValues refuses views over a SharedArrayBuffer.
        const tmp = new Uint8Array(view.length);
        ctx.randomFill(tmp);
        mem.bytes(buf >>> 0, len >>> 0).set(tmp);
      } else {
        ctx.randomFill(view);
      }
      return Errno.SUCCESS;
    },

    sock_accept(fd: number, _flags: number, _fdPtr: number): number {
      return notSocket(table, fd);
    },
    sock_recv(
      fd: number,
      _riData: number,
      _riDataLen: number,
      _riFlags: number,
      _roDatalenPtr: number,
      _roFlagsPtr: number,
    ): number {
      return notSocket(table, fd);
    },
    sock_send(fd: number, _siData: number, _siDataLen: number, _siFlags: number, _soDatalenPtr: number): number {
      return notSocket(table, fd);
    },
    sock_shutdown(fd: number, _how: number): number {
      return notSocket(table, fd);
    },
  };
  return sys;
}
