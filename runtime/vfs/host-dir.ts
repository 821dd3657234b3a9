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
// only ever read as a target string. Not covered: a host process changing the tree between a
// call's walk and its own syscall (the guest cannot: its calls run one at a time, in between).
// Not imported by runtime/vfs/index.ts: the browser bundle must not pull node:fs.
import {
  closeSync,
  constants,
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

const { O_RDWR, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

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
  /** The node's host path, valid for this call only (every directory above it checked). */
  abstract hostPath(): string;
  stat(): FsStat {
    const p = this.hostPath();
    return toStat(sys(`stat ${p}`, () => lstatSync(p, { bigint: true })));
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    const now = atim === null || mtim === null ? this.stat() : undefined;
    const a = nsToSeconds(atim ?? now!.atim);
    const m = nsToSeconds(mtim ?? now!.mtim);
    const p = this.hostPath();
    sys(`utimes ${p}`, () => lutimesSync(p, a, m));
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
  hostPath(): string {
    return childPath(this.dir.hostPath(), this.name);
  }
  /** Opens the host file read-write if `write` and the host allows it, else read-only. */
  open(write: boolean): FsOpenFile {
    const p = this.hostPath();
    if (write) {
      try {
        return new HostOpenFile(openSync(p, O_RDWR | O_NOFOLLOW), true, p);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM' && code !== 'ETXTBSY')
          throw fsError(e, `open ${p}`);
      }
    }
    return new HostOpenFile(
      sys(`open ${p}`, () => openSync(p, O_RDONLY | O_NOFOLLOW)),
      false,
      p,
    );
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
  hostPath(): string {
    return childPath(this.dir.hostPath(), this.name);
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
  private walk(): { path: string; st: BigIntStats } {
    const chain: HostDir[] = [];
    for (let d: HostDir | undefined = this; d; d = d.parent) chain.push(d);
    let path = this.mount.rootPath;
    let st: BigIntStats | undefined;
    for (let i = chain.length - 1; i >= 0; i--) {
      const d = chain[i]!;
      if (d.parent) path = childPath(path, d.name);
      st = lstatQuiet(path);
      if (d.dead || !st || !st.isDirectory() || st.ino !== d.ino || st.dev !== d.dev)
        throw new FsError('ENOENT', `${path} is no longer the directory opened there`);
    }
    return { path, st: st! };
  }
  hostPath(): string {
    return this.walk().path;
  }
  override stat(): FsStat {
    return toStat(this.walk().st);
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
    const p = childPath(this.hostPath(), name);
    const st = lstatQuiet(p);
    return st && this.nodeFor(name, p, st);
  }

  *entries(): Iterable<[string, FsNode]> {
    const base = this.hostPath();
    const list: Dirent[] = sys(`readdir ${base}`, () => readdirSync(base, { withFileTypes: true }));
    for (const e of list) {
      if (e.isFile()) {
        yield [e.name, new HostFile(this.mount, this, e.name)];
        continue;
      }
      // Directories need their inode, symlinks their target, DT_UNKNOWN a type: lstat (gone: skipped).
      const p = childPath(base, e.name);
      const st = lstatQuiet(p);
      if (st) yield [e.name, this.nodeFor(e.name, p, st)];
    }
  }

  createFile(name: string): FsFile {
    const p = childPath(this.hostPath(), name);
    closeSync(sys(`create ${p}`, () => openSync(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)));
    return new HostFile(this.mount, this, name);
  }
  createDir(name: string): FsDir {
    const p = childPath(this.hostPath(), name);
    sys(`mkdir ${p}`, () => mkdirSync(p, 0o755));
    return this.mount.dirAt(
      this,
      name,
      sys(`stat ${p}`, () => lstatSync(p, { bigint: true })),
    );
  }
  createSymlink(name: string, target: string): FsSymlink {
    const p = childPath(this.hostPath(), name);
    sys(`symlink ${p}`, () => symlinkSync(target, p));
    return new HostSymlink(this.mount, this, name, target);
  }
  link(name: string, node: FsNode): void {
    if (!(node instanceof HostNodeBase) || node.mount !== this.mount)
      throw new FsError('EXDEV', 'hard link across filesystems');
    if (node.kind === 'dir') throw new FsError('EPERM', 'hard link to a directory');
    const from = node.hostPath();
    const p = childPath(this.hostPath(), name);
    sys(`link ${p}`, () => linkSync(from, p));
  }
  unlink(name: string): void {
    const p = childPath(this.hostPath(), name);
    sys(`unlink ${p}`, () => unlinkSync(p)); // Linux answers EISDIR for a directory itself
  }
  rmdir(name: string): void {
    const p = childPath(this.hostPath(), name);
    const st = lstatQuiet(p);
    sys(`rmdir ${p}`, () => rmdirSync(p));
    if (st) this.mount.forget(st);
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof HostDir) || toDir.mount !== this.mount)
      throw new FsError('EXDEV', 'rename across filesystems');
    const from = childPath(this.hostPath(), name);
    const to = childPath(toDir.hostPath(), toName);
    const moving = lstatQuiet(from);
    const replaced = lstatQuiet(to);
    sys(`rename ${from}`, () => renameSync(from, to));
    if (!moving?.isDirectory()) return;
    if (replaced?.isDirectory() && inodeKey(replaced) !== inodeKey(moving)) this.mount.forget(replaced);
    // Directory fds inside the moved directory follow it.
    const moved = this.mount.find(moving);
    if (moved) this.mount.move(moved, toDir, toName);
  }
}
