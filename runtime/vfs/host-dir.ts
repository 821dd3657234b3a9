// A host directory (Node only) as an FsDir, for `berth exec --dir`. Node has no openat(2), so a
// directory is held by identity, not by a path string the OS would resolve again later:
// - a HostDir keeps its parent HostDir, its name there and its (dev, ino); every call walks from
//   the mount root (its real path, fixed at mount time) with lstat, never following a symlink, and
//   checks that each directory on the way is still the inode it was. Any change (rmdir, a symlink
//   or another directory put in its place, a rename made on the host) fails the call with ENOENT,
//   so nothing reached through an old directory can lie outside the mount;
// - there is one HostDir per directory inode of a mount, so a rename made through the mount moves
//   that node and directory fds held inside it follow, as on POSIX;
// - `open()` opens a file (O_NOFOLLOW, at the end of such a walk) into a handle holding a host fd
//   until closed: reads and writes keep reaching that inode after a rename or unlink (fstat then
//   says nlink 0). Node-level file calls open by name for the call only.
// Lookups never follow a symlink: the WASI broker resolves symlinks itself, so a host symlink is
// only ever read as a target string.
// Where /proc/self/fd is (Linux), the walk holds each directory it checked as an fd and the call's
// syscall names its file through that fd (`/proc/self/fd/N/name`): the kernel resolves nothing of
// the path again, so a directory swapped for a symlink between the walk and the syscall cannot send
// it outside. That swap needs a second program changing the tree at the same time: another berth
// run on the same directory did (a guest renaming a directory and a symlink in a loop while another
// opened `d/secret.txt` read a file outside the mount within seconds, and created one there).
// Elsewhere (no procfs) that race is not covered: the walk's paths are resolved again by the OS.
// Not imported by runtime/vfs/index.ts: the browser bundle must not pull node:fs.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
  type Dirent,
} from 'node:fs';
import {
  FsError,
  FsErrorCode,
  type FsDir,
  type FsFile,
  type FsNode,
  type FsOpenFile,
  type FsStat,
  type FsSymlink,
} from '../core/index.ts';

// O_NONBLOCK: a fifo (or a device) in a mounted directory must not hold a call (and the run, and
// berth) in open(2) until a writer comes; on a regular file it changes nothing.
const { O_RDWR, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/** A node:fs error as an FsError with the same POSIX name (EIO for names the contract lacks). */
function fsError(e: unknown, what: string): FsError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === undefined) throw e; // not a system error: a bug, let it surface
  const known =
    code in FsErrorCode
      ? (code as FsErrorCode)
      : code === 'EMLINK' || code === 'ENOSYS'
        ? 'ENOTSUP'
        : code === 'ENFILE'
          ? 'EMFILE' // out of host fds: each open guest file holds one
          : 'EIO';
  return new FsError(known, `${what}: ${(e as Error).message}`);
}

function sys<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fsError(e, what);
  }
}

/** lstat, or undefined where nothing is (ENOENT, or ENOTDIR: a component is no directory now). */
function lstatQuiet(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw fsError(e, `stat ${path}`);
  }
}

function toStat(st: BigIntStats): FsStat {
  return {
    dev: st.dev,
    ino: st.ino,
    kind: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file',
    nlink: st.nlink,
    size: st.size,
    atim: st.atimeNs,
    mtim: st.mtimeNs,
    ctim: st.ctimeNs,
    mode: Number(st.mode & 0o7777n),
  };
}

const nsToSeconds = (ns: bigint): number => Number(ns) / 1e9;
const PROC_FD = existsSync('/proc/self/fd') ? '/proc/self/fd' : undefined;
const fdPath = (fd: number) => `${PROC_FD}/${fd}`;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | O_NOFOLLOW;
const childPath = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const inodeKey = (st: BigIntStats): string => `${st.dev}:${st.ino}`;

/** One mount: the real host path of its root, and the one HostDir of each directory inode under it. */
class HostMount {
  private readonly dirs = new Map<string, WeakRef<HostDir>>();
  private readonly collected = new FinalizationRegistry<string>((key) => {
    if (this.dirs.get(key)?.deref() === undefined) this.dirs.delete(key);
  });
  constructor(readonly rootPath: string) {}

  root(st: BigIntStats): HostDir {
    return this.remember(new HostDir(this, undefined, '', st.dev, st.ino));
  }

  /** The node of the directory inode `st`, found as `name` in `parent`: it moves there if it was elsewhere. */
  dirAt(parent: HostDir, name: string, st: BigIntStats): HostDir {
    const known = this.find(st);
    if (!known) return this.remember(new HostDir(this, parent, name, st.dev, st.ino));
    if (known.parent === parent && known.name === name) return known;
    // The same inode above itself (a bind mount): a node of its own, so the tree stays a tree.
    if (!this.move(known, parent, name)) return new HostDir(this, parent, name, st.dev, st.ino);
    return known;
  }

  /** Moves `dir`'s node under `parent` (false, unmoved, for the root or if `parent` is inside it). */
  move(dir: HostDir, parent: HostDir, name: string): boolean {
    for (let d: HostDir | undefined = parent; d; d = d.parent) if (d === dir) return false;
    if (!dir.parent) return false;
    dir.moveTo(parent, name);
    return true;
  }

  find(st: BigIntStats): HostDir | undefined {
    const d = this.dirs.get(inodeKey(st))?.deref();
    return d && !d.dead ? d : undefined;
  }

  /** The directory `st` was removed through this mount: its node answers ENOENT from now on. */
  forget(st: BigIntStats): void {
    const d = this.find(st);
    if (d) d.dead = true;
    this.dirs.delete(inodeKey(st));
  }

  private remember(d: HostDir): HostDir {
    const key = `${d.dev}:${d.ino}`;
    this.dirs.set(key, new WeakRef(d));
    this.collected.register(d, key);
    return d;
  }
}

abstract class HostNodeBase {
  constructor(readonly mount: HostMount) {}
  /** Runs `fn` with the node's host path, valid only inside it (every directory above it checked, and held). */
  abstract withHostPath<T>(fn: (path: string) => T): T;
  /** Where the node is on the host, for messages. */
  abstract shown(): string;
  stat(): FsStat {
    return toStat(this.withHostPath((p) => sys(`stat ${this.shown()}`, () => lstatSync(p, { bigint: true }))));
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    const now = atim === null || mtim === null ? this.stat() : undefined;
    const a = nsToSeconds(atim ?? now!.atim);
    const m = nsToSeconds(mtim ?? now!.mtim);
    this.withHostPath((p) => sys(`utimes ${this.shown()}`, () => lutimesSync(p, a, m)));
  }
}

/** An open host file: one host fd, so the same inode whatever happens to its names. */
class HostOpenFile implements FsOpenFile {
  readonly kind = 'file' as const;
  constructor(
    private fd: number,
    private readonly writable: boolean,
    private readonly what: string,
  ) {}
  private handle(forWrite: boolean): number {
    if (this.fd < 0) throw new FsError('EBADF', `${this.what} is closed`);
    if (forWrite && !this.writable) throw new FsError('EACCES', `${this.what} is not writable on the host`);
    return this.fd;
  }
  stat(): FsStat {
    const fd = this.handle(false);
    return toStat(sys(`stat ${this.what}`, () => fstatSync(fd, { bigint: true })));
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    const now = atim === null || mtim === null ? this.stat() : undefined;
    const fd = this.handle(false);
    sys(`utimes ${this.what}`, () => futimesSync(fd, nsToSeconds(atim ?? now!.atim), nsToSeconds(mtim ?? now!.mtim)));
  }
  read(position: number, into: Uint8Array): number {
    const fd = this.handle(false);
    return sys(`read ${this.what}`, () => readSync(fd, into, 0, into.length, position));
  }
  write(position: number, data: Uint8Array): number {
    const fd = this.handle(true);
    // Straight from the caller's view (guest memory): no copy.
    let done = 0;
    while (done < data.length) {
      done += sys(`write ${this.what}`, () => writeSync(fd, data, done, data.length - done, position + done));
    }
    return data.length;
  }
  truncate(size: number): void {
    if (size < 0) throw new FsError('EINVAL', 'negative size');
    const fd = this.handle(true);
    sys(`truncate ${this.what}`, () => ftruncateSync(fd, size));
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export class HostFile extends HostNodeBase implements FsFile {
  readonly kind = 'file' as const;
  constructor(
    mount: HostMount,
    readonly dir: HostDir,
    readonly name: string,
  ) {
    super(mount);
  }
  withHostPath<T>(fn: (path: string) => T): T {
    return this.dir.withHostPath((base) => fn(childPath(base, this.name)));
  }
  shown(): string {
    return childPath(this.dir.shown(), this.name);
  }
  /** Opens the host file read-write if `write` and the host allows it, else read-only. */
  open(write: boolean): FsOpenFile {
    const shown = this.shown();
    return this.withHostPath((p) => {
      if (write) {
        try {
          return new HostOpenFile(openSync(p, O_RDWR | O_NOFOLLOW | O_NONBLOCK), true, shown);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM' && code !== 'ETXTBSY')
            throw fsError(e, `open ${shown}`);
        }
      }
      return new HostOpenFile(
        sys(`open ${shown}`, () => openSync(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)),
        false,
        shown,
      );
    });
  }
  private once<T>(write: boolean, fn: (f: FsOpenFile) => T): T {
    const f = this.open(write);
    try {
      return fn(f);
    } finally {
      f.close();
    }
  }
  read(position: number, into: Uint8Array): number {
    return this.once(false, (f) => f.read(position, into));
  }
  write(position: number, data: Uint8Array): number {
    return this.once(true, (f) => f.write(position, data));
  }
  truncate(size: number): void {
    this.once(true, (f) => f.truncate(size));
  }
}

export class HostSymlink extends HostNodeBase implements FsSymlink {
  readonly kind = 'symlink' as const;
  constructor(
    mount: HostMount,
    readonly dir: HostDir,
    readonly name: string,
    readonly target: string,
  ) {
    super(mount);
  }
  withHostPath<T>(fn: (path: string) => T): T {
    return this.dir.withHostPath((base) => fn(childPath(base, this.name)));
  }
  shown(): string {
    return childPath(this.dir.shown(), this.name);
  }
}

export class HostDir extends HostNodeBase implements FsDir {
  readonly kind = 'dir' as const;
  /** Removed through the mount: every call answers ENOENT. */
  dead = false;
  constructor(
    mount: HostMount,
    private parentDir: HostDir | undefined,
    private entryName: string,
    readonly dev: bigint,
    readonly ino: bigint,
  ) {
    super(mount);
  }
  get parent(): HostDir | undefined {
    return this.parentDir;
  }
  get name(): string {
    return this.entryName;
  }
  /** Where the mount found this inode now (a rename through the mount, or a lookup at its new place). */
  moveTo(parent: HostDir, name: string): void {
    this.parentDir = parent;
    this.entryName = name;
  }

  /** Mounts the host directory `path` (ENOTDIR if it is not one); it is held by its real path. */
  static open(path: string): HostDir {
    const real = sys(`realpath ${path}`, () => realpathSync(path));
    const st = sys(`stat ${real}`, () => lstatSync(real, { bigint: true }));
    if (!st.isDirectory()) throw new FsError('ENOTDIR', `${path} is not a directory`);
    return new HostMount(real).root(st);
  }

  /**
   * Walks from the mount root down to this directory with lstat, checking that every directory on
   * the way is still the inode it was; ENOENT if one is gone or replaced. Returns the path and stat.
   */
  private walk(): { path: string; st: BigIntStats; release: () => void } {
    const chain: HostDir[] = [];
    for (let d: HostDir | undefined = this; d; d = d.parent) chain.push(d);
    const gone = (d: HostDir) => new FsError('ENOENT', `${d.shown()} is no longer the directory opened there`);
    if (PROC_FD === undefined) {
      let path = this.mount.rootPath;
      let st: BigIntStats | undefined;
      for (let i = chain.length - 1; i >= 0; i--) {
        const d = chain[i]!;
        if (d.parent) path = childPath(path, d.name);
        st = lstatQuiet(path);
        if (d.dead || !st || !st.isDirectory() || st.ino !== d.ino || st.dev !== d.dev) throw gone(d);
      }
      return { path, st: st!, release: () => {} };
    }
    // Each directory opened through the one above it, held, and checked by its fd (procfs). The
    // root by its real path, its last name not followed: no guest can change what is above it (it
    // is outside every mount that holds this one's root, or that mount's own root).
    let fd = -1;
    const release = () => {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    };
    try {
      let st: BigIntStats | undefined;
      for (let i = chain.length - 1; i >= 0; i--) {
        const d = chain[i]!;
        if (d.dead) throw gone(d);
        let next: number;
        try {
          next = openSync(d.parent ? childPath(fdPath(fd), d.name) : this.mount.rootPath, DIR_FLAGS);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw gone(d);
          throw fsError(e, `open ${d.shown()}`);
        }
        release();
        fd = next;
        st = fstatSync(fd, { bigint: true });
        if (!st.isDirectory() || st.ino !== d.ino || st.dev !== d.dev) throw gone(d);
      }
      return { path: fdPath(fd), st: st!, release };
    } catch (e) {
      release();
      throw e;
    }
  }
  withHostPath<T>(fn: (path: string) => T): T {
    const { path, release } = this.walk();
    try {
      return fn(path);
    } finally {
      release();
    }
  }
  shown(): string {
    return this.parent ? childPath(this.parent.shown(), this.name) : this.mount.rootPath;
  }
  override stat(): FsStat {
    const { st, release } = this.walk();
    release();
    return toStat(st);
  }

  private nodeFor(name: string, path: string, st: BigIntStats): FsNode {
    if (st.isDirectory()) return this.mount.dirAt(this, name, st);
    if (st.isSymbolicLink())
      return new HostSymlink(
        this.mount,
        this,
        name,
        sys(`readlink ${path}`, () => readlinkSync(path, 'utf8')),
      );
    return new HostFile(this.mount, this, name);
  }

  lookup(name: string): FsNode | undefined {
    return this.withHostPath((base) => {
      const p = childPath(base, name);
      const st = lstatQuiet(p);
      return st && this.nodeFor(name, p, st);
    });
  }

  *entries(): Iterable<[string, FsNode]> {
    // Read whole while the directory is held (a generator could be left half-read, holding it).
    const nodes = this.withHostPath((base) => {
      const list: Dirent[] = sys(`readdir ${this.shown()}`, () => readdirSync(base, { withFileTypes: true }));
      const out: [string, FsNode][] = [];
      for (const e of list) {
        if (e.isFile()) {
          out.push([e.name, new HostFile(this.mount, this, e.name)]);
          continue;
        }
        // Directories need their inode, symlinks their target, DT_UNKNOWN a type: lstat (gone: skipped).
        const p = childPath(base, e.name);
        const st = lstatQuiet(p);
        if (st) out.push([e.name, this.nodeFor(e.name, p, st)]);
      }
      return out;
    });
    yield* nodes;
  }

  private shownChild(name: string): string {
    return childPath(this.shown(), name);
  }
  createFile(name: string): FsFile {
    this.withHostPath((base) =>
      closeSync(
        sys(`create ${this.shownChild(name)}`, () =>
          openSync(childPath(base, name), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644),
        ),
      ),
    );
    return new HostFile(this.mount, this, name);
  }
  createDir(name: string): FsDir {
    const st = this.withHostPath((base) => {
      const p = childPath(base, name);
      sys(`mkdir ${this.shownChild(name)}`, () => mkdirSync(p, 0o755));
      return sys(`stat ${this.shownChild(name)}`, () => lstatSync(p, { bigint: true }));
    });
    return this.mount.dirAt(this, name, st);
  }
  createSymlink(name: string, target: string): FsSymlink {
    this.withHostPath((base) =>
      sys(`symlink ${this.shownChild(name)}`, () => symlinkSync(target, childPath(base, name))),
    );
    return new HostSymlink(this.mount, this, name, target);
  }
  link(name: string, node: FsNode): void {
    if (!(node instanceof HostNodeBase) || node.mount !== this.mount)
      throw new FsError('EXDEV', 'hard link across filesystems');
    if (node.kind === 'dir') throw new FsError('EPERM', 'hard link to a directory');
    node.withHostPath((from) =>
      this.withHostPath((base) => sys(`link ${this.shownChild(name)}`, () => linkSync(from, childPath(base, name)))),
    );
  }
  unlink(name: string): void {
    // Linux answers EISDIR for a directory itself.
    this.withHostPath((base) => sys(`unlink ${this.shownChild(name)}`, () => unlinkSync(childPath(base, name))));
  }
  rmdir(name: string): void {
    const st = this.withHostPath((base) => {
      const p = childPath(base, name);
      const was = lstatQuiet(p);
      sys(`rmdir ${this.shownChild(name)}`, () => rmdirSync(p));
      return was;
    });
    if (st) this.mount.forget(st);
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof HostDir) || toDir.mount !== this.mount)
      throw new FsError('EXDEV', 'rename across filesystems');
    const { moving, replaced } = this.withHostPath((fromBase) =>
      toDir.withHostPath((toBase) => {
        const from = childPath(fromBase, name);
        const to = childPath(toBase, toName);
        const before = { moving: lstatQuiet(from), replaced: lstatQuiet(to) };
        sys(`rename ${this.shownChild(name)}`, () => renameSync(from, to));
        return before;
      }),
    );
    if (!moving?.isDirectory()) return;
    if (replaced?.isDirectory() && inodeKey(replaced) !== inodeKey(moving)) this.mount.forget(replaced);
    // Directory fds inside the moved directory follow it.
    const moved = this.mount.find(moving);
    if (moved) this.mount.move(moved, toDir, toName);
  }
}
