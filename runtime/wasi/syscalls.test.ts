// Calls the preview1 imports directly over a bare memory, to check struct layouts, flags and
// errno values byte by byte.
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded, FsError } from '../core/index.ts';
import { MemDir, type MemFile, type MemSymlink, MemTree } from '../vfs/mem-tree.ts';
import {
  Errno,
  Fdflags,
  Filetype,
  Fstflags,
  Lookupflags,
  Oflags,
  ProcExit,
  Rights,
  Wasi,
  type WasiOptions,
} from './index.ts';
import { GATHER_MAX, IOV_MAX } from './guest-memory.ts';
import { MAX_SUBSCRIPTIONS } from './syscalls.ts';
import { DirDescriptor, Listings } from './dir-descriptor.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
type Fn = (...args: any[]) => number;
const ALL = (1n << 30n) - 1n;
/** Every right but FD_WRITE: what opening a directory may ask for (FD_WRITE on one gives ISDIR). */
const DIR = ALL & ~BigInt(Rights.FD_WRITE);
const SCRATCH = 1024; // where helpers put strings; outputs go at 0..1023

function setup(options: WasiOptions = {}) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const wasi = new Wasi(options);
  wasi.initialize({ exports: { memory } } as unknown as WebAssembly.Instance);
  const w = wasi.imports.wasi_snapshot_preview1 as Record<string, Fn>;
  let scratch = SCRATCH;
  const dv = () => new DataView(memory.buffer);
  /** Puts a string into memory; returns [ptr, len]. */
  const str = (s: string): [number, number] => {
    const b = enc.encode(s);
    new Uint8Array(memory.buffer, scratch, b.length).set(b);
    const p = scratch;
    scratch += b.length + 8;
    return [p, b.length];
  };
  const open = (
    dirfd: number,
    path: string,
    oflags = 0,
    base = ALL,
    fdflags = 0,
    dirflags = Lookupflags.SYMLINK_FOLLOW,
  ): number => {
    const e = w.path_open!(dirfd, dirflags, ...str(path), oflags, base, ALL, fdflags, 0);
    if (e !== 0) return -e;
    return dv().getUint32(0, true);
  };
  const write = (fd: number, text: string): number => {
    const [p, n] = str(text);
    dv().setUint32(16, p, true);
    dv().setUint32(20, n, true);
    const e = w.fd_write!(fd, 16, 1, 24);
    return e === 0 ? dv().getUint32(24, true) : -e;
  };
  return { memory, wasi, w, dv, str, open, write };
}

function withRoot(extra: WasiOptions = {}) {
  const root = new MemTree().createRoot();
  return { root, ...setup({ preopens: [{ guestPath: '/data', dir: root }], ...extra }) };
}

describe('args and environment', () => {
  it('lays out argv pointers and NUL-terminated strings', () => {
    const { w, dv, memory } = setup({ args: ['a', 'bc'], env: { K: 'v' } });
    expect(w.args_sizes_get!(0, 4)).toBe(0);
    expect([dv().getUint32(0, true), dv().getUint32(4, true)]).toEqual([2, 5]);
    expect(w.args_get!(100, 200)).toBe(0);
    expect([dv().getUint32(100, true), dv().getUint32(104, true)]).toEqual([200, 202]);
    expect(dec.decode(new Uint8Array(memory.buffer, 200, 5))).toBe('a\0bc\0');
    expect(w.environ_sizes_get!(0, 4)).toBe(0);
    expect([dv().getUint32(0, true), dv().getUint32(4, true)]).toEqual([1, 4]);
    expect(w.environ_get!(100, 300)).toBe(0);
    expect(dec.decode(new Uint8Array(memory.buffer, 300, 4))).toBe('K=v\0');
  });
  it('reads pointers as unsigned and answers FAULT outside memory', () => {
    const { w } = setup({ args: ['a'] });
    expect(w.args_sizes_get!(-16, 0)).toBe(Errno.FAULT); // 0xFFFFFFF0
    expect(w.args_get!(65536 - 2, 0)).toBe(Errno.FAULT);
  });
  it('re-reads memory.buffer after the memory grows', () => {
    const { w, memory, dv } = setup({ args: ['abc'] });
    memory.grow(1);
    expect(w.args_get!(70000, 70100)).toBe(0);
    expect(dv().getUint32(70000, true)).toBe(70100);
  });
});

describe('fd table, fdstat and prestat', () => {
  it('describes stdio as character devices with stream rights', () => {
    const { w, dv } = setup();
    for (const fd of [0, 1, 2]) {
      expect(w.fd_fdstat_get!(fd, 0)).toBe(0);
      expect(dv().getUint8(0)).toBe(Filetype.CHARACTER_DEVICE);
      const base = dv().getBigUint64(8, true);
      expect(base & BigInt(Rights.FD_SEEK)).toBe(0n);
      expect((base & BigInt(Rights.FD_READ)) !== 0n).toBe(fd === 0);
      expect((base & BigInt(Rights.FD_WRITE)) !== 0n).toBe(fd !== 0);
    }
    expect(w.fd_fdstat_get!(3, 0)).toBe(Errno.BADF);
    // Streams that are not terminals (pipes: docker run without -t) are of unknown type, still unseekable.
    const piped = setup({ terminal: { stdin: false, stdout: true, stderr: false } });
    const types = [0, 1, 2].map((fd) => (piped.w.fd_fdstat_get!(fd, 0), piped.dv().getUint8(0)));
    expect(types).toEqual([Filetype.UNKNOWN, Filetype.CHARACTER_DEVICE, Filetype.UNKNOWN]);
    expect(piped.w.fd_seek!(2, 0n, 0, 0)).toBe(Errno.SPIPE);
    expect(w.fd_seek!(1, 0n, 0, 0)).toBe(Errno.SPIPE);
    expect(w.fd_tell!(0, 0)).toBe(Errno.SPIPE);
    expect(w.fd_pread!(0, 0, 0, 0n, 0)).toBe(Errno.SPIPE);
  });
  it('reports preopens in order, with their names', () => {
    const a = new MemTree().createRoot();
    const b = new MemTree().createRoot();
    const { w, dv, memory } = setup({
      preopens: [
        { guestPath: '/', dir: a },
        { guestPath: '/data', dir: b },
      ],
    });
    expect(w.fd_prestat_get!(3, 0)).toBe(0);
    expect([dv().getUint8(0), dv().getUint32(4, true)]).toEqual([0, 1]);
    expect(w.fd_prestat_get!(4, 0)).toBe(0);
    expect(dv().getUint32(4, true)).toBe(5);
    expect(w.fd_prestat_dir_name!(4, 100, 4)).toBe(Errno.NAMETOOLONG);
    expect(w.fd_prestat_dir_name!(4, 100, 5)).toBe(0);
    expect(dec.decode(new Uint8Array(memory.buffer, 100, 5))).toBe('/data');
    expect(w.fd_prestat_get!(5, 0)).toBe(Errno.BADF);
    expect(w.fd_fdstat_get!(4, 0)).toBe(0);
    expect(dv().getUint8(0)).toBe(Filetype.DIRECTORY);
  });
  it('renumbers, closes and reuses the lowest free fd', () => {
    const { w, open, write, root } = withRoot();
    const a = open(3, 'a', Oflags.CREAT);
    const b = open(3, 'b', Oflags.CREAT);
    expect([a, b]).toEqual([4, 5]);
    expect(w.fd_renumber!(a, b)).toBe(0);
    expect(w.fd_close!(a)).toBe(Errno.BADF);
    expect(write(b, 'to a')).toBe(4);
    expect(dec.decode((root.lookup('a') as MemFile).contents())).toBe('to a');
    expect((root.lookup('b') as MemFile).contents().length).toBe(0);
    expect(w.fd_renumber!(b, 9)).toBe(Errno.BADF);
    expect(open(3, 'c', Oflags.CREAT)).toBe(4);
    expect(w.fd_close!(b)).toBe(0);
    expect(w.fd_close!(b)).toBe(Errno.BADF);
  });
  it('lets rights be dropped, never gained, and checks them', () => {
    const { w, dv, open, write } = withRoot();
    const fd = open(3, 'f', Oflags.CREAT);
    expect(write(fd, 'x')).toBe(1);
    expect(w.fd_fdstat_get!(fd, 100)).toBe(0);
    const base = dv().getBigUint64(108, true);
    expect(w.fd_fdstat_set_rights!(fd, base & ~BigInt(Rights.FD_WRITE), 0n)).toBe(0);
    expect(write(fd, 'x')).toBe(-Errno.NOTCAPABLE);
    expect(w.fd_fdstat_set_rights!(fd, ALL, 0n)).toBe(Errno.NOTCAPABLE);
    // A directory fd that lost PATH_OPEN cannot open anything.
    expect(w.fd_fdstat_set_rights!(3, BigInt(Rights.FD_READDIR), 0n)).toBe(0);
    expect(open(3, 'f')).toBe(-Errno.NOTCAPABLE);
  });
  it("masks opened rights to the directory's inheriting rights", () => {
    const { w, open, write, dv } = withRoot();
    expect(w.fd_fdstat_get!(3, 0)).toBe(0);
    const inh = dv().getBigUint64(16, true);
    expect(w.fd_fdstat_set_rights!(3, dv().getBigUint64(8, true), inh & ~BigInt(Rights.FD_WRITE))).toBe(0);
    const fd = open(3, 'f', Oflags.CREAT);
    expect(fd).toBeGreaterThan(0);
    expect(write(fd, 'x')).toBe(-Errno.NOTCAPABLE);
  });
});

describe('files', () => {
  it('writes a 64-byte filestat', () => {
    const { w, dv, open, write, root } = withRoot();
    const fd = open(3, 'f', Oflags.CREAT);
    write(fd, 'abc');
    const node = root.lookup('f') as MemFile;
    new Uint8Array(dv().buffer, 100, 64).fill(0xee);
    expect(w.fd_filestat_get!(fd, 100)).toBe(0);
    const d = dv();
    expect(d.getBigUint64(100, true)).toBe(node.stat().dev);
    expect(d.getBigUint64(108, true)).toBe(node.ino);
    expect(d.getUint8(116)).toBe(Filetype.REGULAR_FILE);
    expect(d.getUint8(117)).toBe(0); // padding cleared
    expect(d.getBigUint64(124, true)).toBe(1n);
    expect(d.getBigUint64(132, true)).toBe(3n);
    expect(d.getBigUint64(140, true)).toBe(node.atim);
    expect(d.getBigUint64(148, true)).toBe(node.mtim);
    expect(d.getBigUint64(156, true)).toBe(node.ctim);
    expect(w.path_filestat_get!(3, 0, ...withRootStr(d, 'f'), 200)).toBe(0);
    expect(dv().getBigUint64(208, true)).toBe(node.ino);
  });
  it('appends with FDFLAGS_APPEND set at open or later', () => {
    const { w, dv, open, write, root } = withRoot();
    const fd = open(3, 'f', Oflags.CREAT);
    write(fd, 'abc');
    expect(w.fd_seek!(fd, 0n, 0, 0)).toBe(0);
    expect(w.fd_fdstat_set_flags!(fd, Fdflags.APPEND)).toBe(0);
    expect(w.fd_fdstat_get!(fd, 0)).toBe(0);
    expect(dv().getUint16(2, true)).toBe(Fdflags.APPEND);
    write(fd, 'd');
    expect(w.fd_tell!(fd, 8)).toBe(0);
    expect(dv().getBigUint64(8, true)).toBe(4n);
    const fd2 = open(3, 'f', 0, ALL, Fdflags.APPEND);
    write(fd2, 'e');
    expect(dec.decode((root.lookup('f') as MemFile).contents())).toBe('abcde');
    expect(w.fd_fdstat_set_flags!(fd, 1 << 9)).toBe(Errno.INVAL);
  });
  it('seeks with SET/CUR/END and refuses negative positions', () => {
    const { w, dv, open, write } = withRoot();
    const fd = open(3, 'f', Oflags.CREAT);
    write(fd, '0123456789');
    expect(w.fd_seek!(fd, -3n, 2, 0)).toBe(0);
    expect(dv().getBigUint64(0, true)).toBe(7n);
    expect(w.fd_seek!(fd, 2n, 1, 0)).toBe(0);
    expect(dv().getBigUint64(0, true)).toBe(9n);
    expect(w.fd_seek!(fd, -10n, 1, 0)).toBe(Errno.INVAL);
    expect(w.fd_seek!(fd, 0n, 3, 0)).toBe(Errno.INVAL);
    expect(w.fd_seek!(3, 0n, 0, 0)).toBe(Errno.NOTCAPABLE); // a directory has no FD_SEEK
  });
  it('allocates (grows, never shrinks) and sets sizes', () => {
    const { w, open, write, root } = withRoot();
    const fd = open(3, 'f', Oflags.CREAT);
    write(fd, 'abcdef');
    const node = root.lookup('f') as MemFile;
    expect(w.fd_allocate!(fd, 2n, 2n)).toBe(0);
    expect(node.stat().size).toBe(6n);
    expect(w.fd_allocate!(fd, 4n, 10n)).toBe(0);
    expect(node.stat().size).toBe(14n);
    expect(w.fd_filestat_set_size!(fd, 3n)).toBe(0);
    expect(dec.decode(node.contents())).toBe('abc');
    expect(w.fd_filestat_set_size!(1, 3n)).toBe(Errno.INVAL);
    expect(w.fd_filestat_set_size!(3, 3n)).toBe(Errno.ISDIR);
    expect(w.fd_sync!(fd)).toBe(0);
    expect(w.fd_datasync!(fd)).toBe(0);
    expect(w.fd_advise!(fd, 0n, 0n, 1)).toBe(0);
    expect(w.fd_advise!(fd, 0n, 0n, 9)).toBe(Errno.INVAL);
  });
  it('sets times: explicit, NOW, and refuses both at once', () => {
    let now = 5_000n;
    const { w, open, root, str } = withRoot({ now: () => now });
    const fd = open(3, 'f', Oflags.CREAT);
    const node = root.lookup('f') as MemFile;
    expect(w.fd_filestat_set_times!(fd, 123n, 456n, Fstflags.ATIM | Fstflags.MTIM)).toBe(0);
    expect([node.atim, node.mtim]).toEqual([123n, 456n]);
    expect(w.fd_filestat_set_times!(fd, 0n, 0n, Fstflags.MTIM_NOW)).toBe(0);
    expect([node.atim, node.mtim]).toEqual([123n, 5_000n]);
    now = 7_000n;
    expect(w.fd_filestat_set_times!(fd, 0n, 0n, Fstflags.ATIM_NOW)).toBe(0);
    expect([node.atim, node.mtim]).toEqual([7_000n, 5_000n]);
    expect(w.fd_filestat_set_times!(fd, 1n, 0n, Fstflags.ATIM | Fstflags.ATIM_NOW)).toBe(Errno.INVAL);
    expect(w.fd_filestat_set_times!(fd, 1n, 0n, Fstflags.MTIM | Fstflags.MTIM_NOW)).toBe(Errno.INVAL);
    const link = root.createSymlink('l', 'f');
    expect(w.path_filestat_set_times!(3, 0, ...str('l'), 11n, 22n, Fstflags.ATIM | Fstflags.MTIM)).toBe(0);
    expect([link.atim, link.mtim, node.atim]).toEqual([11n, 22n, 7_000n]);
    expect(
      w.path_filestat_set_times!(3, Lookupflags.SYMLINK_FOLLOW, ...str('l'), 33n, 44n, Fstflags.ATIM | Fstflags.MTIM),
    ).toBe(0);
    expect([node.atim, node.mtim]).toEqual([33n, 44n]);
    expect(w.path_filestat_set_times!(3, 0, ...str('nope'), 0n, 0n, Fstflags.ATIM_NOW)).toBe(Errno.NOENT);
  });
  it('opens with TRUNC, EXCL, DIRECTORY and refuses writing a directory', () => {
    const { open, root } = withRoot();
    const f = root.createFile('f');
    f.write(0, enc.encode('data'));
    root.createDir('d');
    expect(open(3, 'f', Oflags.TRUNC)).toBeGreaterThan(0);
    expect(f.stat().size).toBe(0n);
    expect(open(3, 'f', Oflags.CREAT | Oflags.EXCL)).toBe(-Errno.EXIST);
    expect(open(3, 'f', Oflags.DIRECTORY)).toBe(-Errno.NOTDIR);
    expect(open(3, 'd', Oflags.DIRECTORY, DIR)).toBeGreaterThan(0);
    expect(open(3, 'd', Oflags.DIRECTORY)).toBe(-Errno.ISDIR); // FD_WRITE, as open(O_WRONLY | O_DIRECTORY)
    expect(open(3, 'd', 0, BigInt(Rights.FD_WRITE))).toBe(-Errno.ISDIR);
    expect(open(3, 'd', Oflags.TRUNC)).toBe(-Errno.ISDIR);
    expect(open(3, 'new/', Oflags.CREAT)).toBe(-Errno.ISDIR);
    expect(open(3, 'missing')).toBe(-Errno.NOENT);
    expect(open(3, 'f/')).toBe(-Errno.NOTDIR);
    expect(open(3, '.', Oflags.DIRECTORY, DIR)).toBeGreaterThan(0);
    expect(open(3, 'd/..', Oflags.DIRECTORY, DIR)).toBeGreaterThan(0);
    expect(open(3, '..', Oflags.DIRECTORY, DIR)).toBe(-Errno.NOTCAPABLE);
  });
});

function withRootStr(d: DataView, s: string): [number, number] {
  const b = enc.encode(s);
  new Uint8Array(d.buffer, 3000, b.length).set(b);
  return [3000, b.length];
}

describe('fd_readdir', () => {
  it('writes 24-byte dirents with d_next cookies, d_ino, d_type, and "." and ".."', () => {
    const { w, dv, memory, open, root } = withRoot();
    const sub = root.createDir('sub');
    const f = sub.createFile('file');
    const l = sub.createSymlink('link', 'file');
    const fd = open(3, 'sub', Oflags.DIRECTORY, DIR);
    expect(w.fd_readdir!(fd, 100, 400, 0n, 0)).toBe(0);
    const used = dv().getUint32(0, true);
    const got: [bigint, bigint, string, number][] = [];
    for (let off = 100; off < 100 + used; ) {
      const d = dv();
      const namlen = d.getUint32(off + 16, true);
      got.push([
        d.getBigUint64(off, true),
        d.getBigUint64(off + 8, true),
        dec.decode(new Uint8Array(memory.buffer, off + 24, namlen)),
        d.getUint8(off + 20),
      ]);
      off += 24 + namlen;
    }
    expect(got).toEqual([
      [1n, sub.ino, '.', Filetype.DIRECTORY],
      [2n, root.ino, '..', Filetype.DIRECTORY],
      [3n, f.ino, 'file', Filetype.REGULAR_FILE],
      [4n, l.ino, 'link', Filetype.SYMBOLIC_LINK],
    ]);
    expect(used).toBe(24 * 4 + 1 + 2 + 4 + 4);
    // Resume from a cookie; a truncated buffer is filled completely.
    expect(w.fd_readdir!(fd, 100, 400, 3n, 0)).toBe(0);
    expect(dv().getUint32(0, true)).toBe(28);
    expect(w.fd_readdir!(fd, 100, 30, 0n, 0)).toBe(0);
    expect(dv().getUint32(0, true)).toBe(30);
    expect(w.fd_readdir!(fd, 100, 400, 4n, 0)).toBe(0);
    expect(dv().getUint32(0, true)).toBe(0);
    // A cookie past 2^63 comes as a negative i64: past the end, not before the listing (it threw).
    for (const past of [-1n, -(2n ** 63n), 2n ** 40n]) {
      expect(w.fd_readdir!(fd, 100, 400, past, 0)).toBe(0);
      expect(dv().getUint32(0, true)).toBe(0);
    }
    expect(w.fd_readdir!(1, 100, 400, 0n, 0)).toBe(Errno.NOTDIR);
  });
  it('uses the preopen itself as ".." of a preopen', () => {
    const { w, dv, root } = withRoot();
    expect(w.fd_readdir!(3, 100, 48, 0n, 0)).toBe(0);
    expect(dv().getBigUint64(108, true)).toBe(root.ino);
    expect(dv().getBigUint64(108 + 25, true)).toBe(root.ino);
  });
});

describe('path operations', () => {
  it('maps FsError names to errno, rethrows host bugs', () => {
    class FullDir extends MemDir {
      override createFile(): MemFile {
        throw new FsError('ENOSPC', 'full');
      }
      override createDir(): MemDir {
        throw new Error('host bug');
      }
    }
    const root = new FullDir(new MemTree());
    const { w, str, open } = setup({ preopens: [{ guestPath: '/', dir: root }] });
    expect(open(3, 'x', Oflags.CREAT)).toBe(-Errno.NOSPC);
    expect(() => w.path_create_directory!(3, ...str('y'))).toThrow('host bug');
  });
  it('reads links (truncated to buf_len) and refuses non-links', () => {
    const { w, dv, memory, str, root } = withRoot();
    root.createSymlink('l', 'target/name');
    root.createFile('f');
    expect(w.path_readlink!(3, ...str('l'), 100, 6, 0)).toBe(0);
    expect(dv().getUint32(0, true)).toBe(6);
    expect(dec.decode(new Uint8Array(memory.buffer, 100, 6))).toBe('target');
    expect(w.path_readlink!(3, ...str('f'), 100, 6, 0)).toBe(Errno.INVAL);
    expect(w.path_readlink!(3, ...str('none'), 100, 6, 0)).toBe(Errno.NOENT);
  });
  it('creates, links, renames across two dir fds, and removes', () => {
    const { w, str, open, root } = withRoot();
    expect(w.path_create_directory!(3, ...str('a'))).toBe(0);
    expect(w.path_create_directory!(3, ...str('b'))).toBe(0);
    const a = open(3, 'a', Oflags.DIRECTORY, DIR);
    const b = open(3, 'b', Oflags.DIRECTORY, DIR);
    expect(open(a, 'f', Oflags.CREAT)).toBeGreaterThan(0);
    expect(w.path_link!(a, 0, ...str('f'), b, ...str('g'))).toBe(0);
    expect((root.lookup('b') as MemDir).lookup('g')).toBe((root.lookup('a') as MemDir).lookup('f'));
    expect(w.path_rename!(a, ...str('f'), b, ...str('h'))).toBe(0);
    expect([...(root.lookup('b') as MemDir).entries()].map(([n]) => n).sort()).toEqual(['g', 'h']);
    expect(w.path_unlink_file!(b, ...str('g'))).toBe(0);
    expect(w.path_remove_directory!(3, ...str('a'))).toBe(0);
    expect(w.path_remove_directory!(3, ...str('b'))).toBe(Errno.NOTEMPTY);
    expect(w.path_remove_directory!(b, ...str('.'))).toBe(Errno.INVAL);
    expect(w.path_symlink!(...str('h'), b, ...str('s'))).toBe(0);
    expect(((root.lookup('b') as MemDir).lookup('s') as MemSymlink).target).toBe('h');
    expect(w.path_symlink!(...str(''), b, ...str('s2'))).toBe(Errno.NOENT);
    expect(w.path_rename!(3, ...str('b/s'), 3, ...str('s'))).toBe(0);
    expect(root.lookup('s')?.kind).toBe('symlink');
  });
});

describe('poll_oneoff', () => {
  function sub(d: DataView, at: number, userdata: bigint, tag: number, a: number, timeout = 0n, flags = 0): void {
    for (let i = 0; i < 48; i++) d.setUint8(at + i, 0);
    d.setBigUint64(at, userdata, true);
    d.setUint8(at + 8, tag);
    d.setUint32(at + 16, a, true);
    d.setBigUint64(at + 24, timeout, true);
    d.setUint16(at + 40, flags, true);
  }
  it('sleeps for the shortest relative clock and reports only it', () => {
    const { w, dv } = setup();
    sub(dv(), 100, 1n, 0, 1, 40_000_000n);
    sub(dv(), 148, 2n, 0, 1, 5_000_000_000n);
    const t0 = performance.now();
    expect(w.poll_oneoff!(100, 400, 2, 0)).toBe(0);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(39);
    expect(ms).toBeLessThan(1000);
    expect(dv().getUint32(0, true)).toBe(1);
    expect([dv().getBigUint64(400, true), dv().getUint16(408, true), dv().getUint8(410)]).toEqual([1n, 0, 0]);
  });
  it('honours absolute deadlines on the injected clock', () => {
    let mono = 1_000_000_000n;
    const { w, dv } = setup({ monotonic: () => mono });
    sub(dv(), 100, 5n, 0, 1, 1_030_000_000n, 1); // 30 ms after "now"
    const t0 = performance.now();
    expect(w.poll_oneoff!(100, 400, 1, 0)).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(dv().getBigUint64(400, true)).toBe(5n);
    mono = 2_000_000_000n; // deadline now in the past: at once
    const t1 = performance.now();
    expect(w.poll_oneoff!(100, 400, 1, 0)).toBe(0);
    expect(performance.now() - t1).toBeLessThan(20);
    expect(dv().getUint32(0, true)).toBe(1);
  });
  it('answers fd subscriptions at once, with nbytes and per-event errors', () => {
    const { w, dv, open, write } = withRoot();
    const fd = open(3, 'f', Oflags.CREAT);
    write(fd, 'hello');
    w.fd_seek!(fd, 1n, 0, 0);
    sub(dv(), 100, 7n, 1, fd);
    sub(dv(), 148, 8n, 2, 1);
    sub(dv(), 196, 9n, 1, 42);
    sub(dv(), 244, 10n, 0, 1, 10_000_000_000n);
    const t0 = performance.now();
    expect(w.poll_oneoff!(100, 400, 4, 0)).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(dv().getUint32(0, true)).toBe(3);
    const ev = (i: number) => [
      dv().getBigUint64(400 + i * 32, true),
      dv().getUint16(408 + i * 32, true),
      dv().getUint8(410 + i * 32),
      dv().getBigUint64(416 + i * 32, true),
    ];
    expect(ev(0)).toEqual([7n, 0, 1, 4n]);
    expect(ev(1)).toEqual([8n, 0, 2, 0n]);
    expect(ev(2)).toEqual([9n, Errno.BADF, 1, 0n]);
    expect(w.poll_oneoff!(100, 400, 0, 0)).toBe(Errno.INVAL);
  });
});

describe('clocks, random, process, sockets', () => {
  it('reads the four clocks', () => {
    const { w, dv } = setup({ now: () => 42n, monotonic: () => 77n });
    expect(w.clock_time_get!(0, 0n, 0)).toBe(0);
    expect(dv().getBigUint64(0, true)).toBe(42n);
    expect(w.clock_time_get!(1, 0n, 0)).toBe(0);
    expect(dv().getBigUint64(0, true)).toBe(77n);
    expect(w.clock_time_get!(2, 0n, 0)).toBe(0);
    expect(w.clock_time_get!(3, 0n, 0)).toBe(0);
    expect(w.clock_time_get!(4, 0n, 0)).toBe(Errno.INVAL);
    expect(w.clock_res_get!(0, 0)).toBe(0);
    expect(dv().getBigUint64(0, true)).toBeGreaterThan(0n);
  });
  it('default realtime is close to Date.now, monotonic never goes back', () => {
    const { w, dv } = setup();
    w.clock_time_get!(0, 0n, 0);
    expect(Number(dv().getBigUint64(0, true) / 1_000_000n) - Date.now()).toBeLessThan(1000);
    let last = 0n;
    for (let i = 0; i < 1000; i++) {
      w.clock_time_get!(1, 0n, 0);
      const t = dv().getBigUint64(0, true);
      expect(t >= last).toBe(true);
      last = t;
    }
  });
  it('fills random bytes beyond 64 KiB', () => {
    const { w, memory } = setup();
    expect(w.random_get!(1000, 60000)).toBe(0);
    memory.grow(2);
    expect(w.random_get!(0, 150_000)).toBe(0);
    const b = new Uint8Array(memory.buffer, 0, 150_000);
    expect(b.filter((x) => x === 0).length).toBeLessThan(2000);
    expect(b.slice(140_000).some((x) => x !== 0)).toBe(true);
  });
  it('proc_exit throws ProcExit; proc_raise, sockets and sched_yield answer', () => {
    const { w } = withRoot();
    expect(() => w.proc_exit!(-1)).toThrow(ProcExit);
    try {
      w.proc_exit!(-1);
    } catch (e) {
      expect((e as ProcExit).code).toBe(0xffffffff);
    }
    expect(w.proc_raise!(15)).toBe(Errno.NOSYS);
    expect(w.sched_yield!()).toBe(0);
    expect(w.sock_accept!(3, 0, 0)).toBe(Errno.NOTSOCK);
    expect(w.sock_recv!(3, 0, 0, 0, 0, 0)).toBe(Errno.NOTSOCK);
    expect(w.sock_send!(3, 0, 0, 0, 0)).toBe(Errno.NOTSOCK);
    expect(w.sock_shutdown!(3, 0)).toBe(Errno.NOTSOCK);
    expect(w.sock_shutdown!(30, 0)).toBe(Errno.BADF);
  });
  it('exports all 46 preview1 functions', () => {
    const { w } = setup();
    expect(Object.keys(w).length).toBe(46);
  });
  it('passes stdout host errors through instead of turning them into an errno', () => {
    const { write } = setup({
      stdout: () => {
        throw new TypeError('sink broke');
      },
    });
    expect(() => write(1, 'x')).toThrow('sink broke');
  });
});

describe('host work past the deadline (each call costs the program one charge, whatever it does)', () => {
  const MiB2 = 2 * 1024 * 1024;
  /** A root with a file f open as fd 4 and a directory of 40,000 entries open as fd 5. */
  function world(deadline?: { deadlineMs: number; onDeadline: (e: DeadlineExceeded) => void }) {
    const t = withRoot(deadline ?? {});
    const many = t.root.createDir('many');
    for (let i = 0; i < 40_000; i++) many.createFile(`f${i}`);
    // s -> "s/./././...": each expansion repeats the rest of the path
    t.root.createSymlink('s', `s${'/.'.repeat(2046)}`);
    const fd = t.open(3, 'f', Oflags.CREAT);
    const dir = t.open(3, 'many', Oflags.DIRECTORY, DIR);
    return { ...t, fd, dir, file: t.root.lookup('f') as MemFile };
  }

  it('growing a file, writing past its end, or listing a large directory meets the deadline first', () => {
    const told: DeadlineExceeded[] = [];
    const late = world({ deadlineMs: performance.now() - 1, onDeadline: (e) => told.push(e) });
    const { w, fd, dir, file, dv } = late;
    expect(() => w.fd_filestat_set_size!(fd, BigInt(MiB2))).toThrow(DeadlineExceeded);
    expect(() => w.fd_allocate!(fd, 0n, BigInt(MiB2))).toThrow(DeadlineExceeded);
    dv().setUint32(16, 1024, true);
    dv().setUint32(20, 1, true);
    expect(() => w.fd_pwrite!(fd, 16, 1, BigInt(MiB2), 24)).toThrow(DeadlineExceeded);
    expect(() => w.fd_readdir!(dir, 100, 24, 0n, 0)).toThrow(DeadlineExceeded);
    expect(told).toHaveLength(4);
    expect(file.stat().size).toBe(0n); // none of it was done
    // The same calls with no deadline do the work.
    const free = world();
    expect(free.w.fd_filestat_set_size!(free.fd, BigInt(MiB2))).toBe(0);
    expect(free.file.stat().size).toBe(BigInt(MiB2));
    expect(free.w.fd_readdir!(free.dir, 100, 24, 0n, 0)).toBe(0);
  });

  it('a symlink whose target repeats the rest of the path is refused as too long, not expanded 40 times', () => {
    const { w, str } = world();
    expect(w.path_filestat_get!(3, Lookupflags.SYMLINK_FOLLOW, ...str('s'), 200)).toBe(Errno.NAMETOOLONG);
  });
});

describe('iovecs a call may pass', () => {
  /** Puts `count` iovecs at 4096, each pointing at the same `len` bytes at 0. */
  function iovecs(dv: DataView, count: number, len: number): void {
    for (let i = 0; i < count; i++) {
      dv.setUint32(4096 + i * 8, 0, true);
      dv.setUint32(4096 + i * 8 + 4, len, true);
    }
  }
  it('more than IOV_MAX (1,024) in one call is EINVAL, as on Linux; 1,024 are fine', () => {
    const chunks: Uint8Array[] = [];
    const { w, memory } = setup({ stdout: (c) => chunks.push(c) });
    const dv = new DataView(memory.buffer);
    iovecs(dv, IOV_MAX + 1, 1);
    expect(w.fd_write!(1, 4096, IOV_MAX + 1, 0)).toBe(Errno.INVAL);
    expect(w.fd_write!(1, 4096, IOV_MAX, 0)).toBe(Errno.SUCCESS);
    expect(dv.getUint32(0, true)).toBe(IOV_MAX);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(IOV_MAX);
  });

  it('one write to a stream gathers at most 16 MiB (a short write), however the iovecs alias', () => {
    const chunks: Uint8Array[] = [];
    const memory = new WebAssembly.Memory({ initial: 17 });
    const wasi = new Wasi({ stdout: (c) => chunks.push(c) });
    wasi.initialize({ exports: { memory } } as unknown as WebAssembly.Instance);
    const w = wasi.imports.wasi_snapshot_preview1 as Record<string, Fn>;
    const dv = new DataView(memory.buffer);
    // 1,024 iovecs of the same 1 MiB: 1 GiB asked for from 1 MiB of memory.
    iovecs(dv, IOV_MAX, 2 ** 20);
    expect(w.fd_write!(1, 4096, IOV_MAX, 64)).toBe(Errno.SUCCESS);
    expect(dv.getUint32(64, true)).toBe(GATHER_MAX);
    expect(chunks.map((c) => c.length)).toEqual([GATHER_MAX]);
  });
});

describe('directory listings held by fds', () => {
  it('count against one budget per instance: NOMEM past it, given back when an fd closes or lists again', () => {
    const listings = new Listings(100);
    const dir = new MemTree().createRoot();
    for (let i = 0; i < 60; i++) dir.createFile(`f${i}`);
    const fd = () => new DirDescriptor(dir, dir, undefined, -1, -1, false);
    const a = fd();
    const b = fd();
    a.keepListing(Array.from(dir.entries()), listings);
    expect(() => b.keepListing(Array.from(dir.entries()), listings)).toThrow(/more than 100 entries/);
    a.keepListing(Array.from(dir.entries()), listings); // listing again replaces its own
    expect(listings.held).toBe(60);
    a.close();
    expect(listings.held).toBe(0);
    b.keepListing(Array.from(dir.entries()), listings);
    expect(listings.held).toBe(60);
  });

  it('fd_readdir lists as before with the budget in place, and closing the fd gives it back', () => {
    const { w, open, dv, root } = withRoot();
    root.createFile('a');
    for (let round = 0; round < 3; round++) {
      const fd = open(3, '.', Oflags.DIRECTORY, DIR);
      expect(fd).toBeGreaterThan(3);
      expect(w.fd_readdir!(fd, 256, 512, 0n, 8)).toBe(Errno.SUCCESS);
      expect(dv().getUint32(8, true)).toBe(24 + 1 + 24 + 2 + 24 + 1);
      expect(w.fd_close!(fd)).toBe(Errno.SUCCESS);
    }
  });
});

describe('poll_oneoff subscriptions', () => {
  it('takes at most 65,536 subscriptions in one call (INVAL past it), before reading any', () => {
    const { w } = setup();
    expect(w.poll_oneoff!(0, 0, MAX_SUBSCRIPTIONS + 1, 0)).toBe(Errno.INVAL);
  });
});
