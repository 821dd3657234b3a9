// A host directory (Node only) as an FsDir, for `berth exec --dir`. Words: a host node is a file,
// directory or symlink of the host filesystem named by its host path; `HostDir.open(path)` mounts
// one directory. Lookups use lstat and never follow a symlink: the WASI broker resolves symlinks
// itself, so a host symlink pointing outside the mounted directory is only ever read as a target
// string, never followed here. Files are opened (O_NOFOLLOW) on first read/write and keep their
// host fd, so an open file survives a rename or unlink as on POSIX; at most MAX_OPEN host fds stay
// open in the process, the least recently used closed first (and reopened by path if used again).
// Not imported by runtime/vfs/index.ts: the browser bundle must not pull node:fs.
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
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
  type FsStat,
  type FsSymlink,
} from '../core/index.ts';

const MAX_OPEN = 128;
const { O_RDWR, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** A node:fs error as an FsError with the same POSIX name (EIO for names the contract lacks). */
function fsError(e: unknown, what: string): FsError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === undefined) throw e; // not a system error: a bug, let it surface
  const known =
    code in FsErrorCode ? (code as FsErrorCode) : code === 'EMLINK' || code === 'ENOSYS' ? 'ENOTSUP' : 'EIO';
  return new FsError(known, `${what}: ${(e as Error).message}`);
}

function sys<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fsError(e, what);
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

/** Files holding a host fd, least recently used first (one list for the process). */
const openFiles = new Map<HostFile, true>();
function touchOpen(f: HostFile): void {
  // Re-inserting moves it last; skip when it already is, the common case of repeated I/O.
  if (lastOpen === f) return;
  openFiles.delete(f);
  openFiles.set(f, true);
  lastOpen = f;
  if (openFiles.size > MAX_OPEN) openFiles.keys().next().value!.release();
}
let lastOpen: HostFile | undefined;

/** Identity of one mount: links and renames stay within it (EXDEV otherwise). */
class HostMount {}

abstract class HostNodeBase {
  constructor(
    readonly mount: HostMount,
    public path: string,
  ) {}
  stat(): FsStat {
    return toStat(sys(`stat ${this.path}`, () => lstatSync(this.path, { bigint: true })));
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    const now = atim === null || mtim === null ? this.stat() : undefined;
    const a = nsToSeconds(atim ?? now!.atim);
    const m = nsToSeconds(mtim ?? now!.mtim);
    sys(`utimes ${this.path}`, () => (this instanceof HostSymlink ? lutimesSync : utimesSync)(this.path, a, m));
  }
}

export class HostFile extends HostNodeBase implements FsFile {
  readonly kind = 'file' as const;
  private fd = -1;
  private writable = false;
  constructor(mount: HostMount, path: string, fd = -1) {
    super(mount, path);
    if (fd >= 0) {
      this.fd = fd;
      this.writable = true;
      touchOpen(this);
    }
  }
  /** The host fd, opened read-write if the host allows, else read-only. */
  private handle(forWrite: boolean): number {
    if (this.fd < 0) {
      try {
        this.fd = openSync(this.path, O_RDWR | O_NOFOLLOW);
        this.writable = true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw fsError(e, `open ${this.path}`);
        this.fd = sys(`open ${this.path}`, () => openSync(this.path, O_RDONLY | O_NOFOLLOW));
        this.writable = false;
      }
    }
    if (forWrite && !this.writable) throw new FsError('EACCES', `${this.path} is not writable on the host`);
    touchOpen(this);
    return this.fd;
  }
  /** Closes the host fd (the mount keeps a bounded number open). */
  release(): void {
    openFiles.delete(this);
    if (lastOpen === this) lastOpen = undefined;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
  override stat(): FsStat {
    if (this.fd >= 0) return toStat(sys(`stat ${this.path}`, () => fstatSync(this.fd, { bigint: true })));
    return super.stat();
  }
  read(position: number, into: Uint8Array): number {
    const fd = this.handle(false);
    return sys(`read ${this.path}`, () => readSync(fd, into, 0, into.length, position));
  }
  write(position: number, data: Uint8Array): number {
    const fd = this.handle(true);
    // Straight from the caller's view (guest memory): no copy.
    let done = 0;
    while (done < data.length) {
      done += sys(`write ${this.path}`, () => writeSync(fd, data, done, data.length - done, position + done));
    }
    return data.length;
  }
  truncate(size: number): void {
    if (size < 0) throw new FsError('EINVAL', 'negative size');
    const fd = this.handle(true);
    sys(`truncate ${this.path}`, () => ftruncateSync(fd, size));
  }
}

export class HostSymlink extends HostNodeBase implements FsSymlink {
  readonly kind = 'symlink' as const;
  constructor(
    mount: HostMount,
    path: string,
    readonly target: string,
  ) {
    super(mount, path);
  }
}

export class HostDir extends HostNodeBase implements FsDir {
  readonly kind = 'dir' as const;

  /** Mounts the host directory `path` (ENOTDIR if it is not one). */
  static open(path: string): HostDir {
    const st = sys(`stat ${path}`, () => lstatSync(path));
    if (!st.isDirectory()) throw new FsError('ENOTDIR', `${path} is not a directory`);
    return new HostDir(new HostMount(), path);
  }

  private child(name: string): string {
    return this.path === '/' ? `/${name}` : `${this.path}/${name}`;
  }

  private nodeFor(path: string, isDir: boolean, isLink: boolean): FsNode {
    if (isDir) return new HostDir(this.mount, path);
    if (isLink)
      return new HostSymlink(
        this.mount,
        path,
        sys(`readlink ${path}`, () => readlinkSync(path, 'utf8')),
      );
    return new HostFile(this.mount, path);
  }

  lookup(name: string): FsNode | undefined {
    const p = this.child(name);
    const st = sys(`stat ${p}`, () => lstatSync(p, { throwIfNoEntry: false }));
    if (!st) return undefined;
    return this.nodeFor(p, st.isDirectory(), st.isSymbolicLink());
  }

  *entries(): Iterable<[string, FsNode]> {
    const list: Dirent[] = sys(`readdir ${this.path}`, () => readdirSync(this.path, { withFileTypes: true }));
    for (const e of list) {
      const p = this.child(e.name);
      if (e.isDirectory() || e.isSymbolicLink() || e.isFile())
        yield [e.name, this.nodeFor(p, e.isDirectory(), e.isSymbolicLink())];
      else {
        // DT_UNKNOWN on some filesystems: ask lstat; entries gone meanwhile are skipped.
        const node = this.lookup(e.name);
        if (node) yield [e.name, node];
      }
    }
  }

  createFile(name: string): FsFile {
    const p = this.child(name);
    const fd = sys(`create ${p}`, () => openSync(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644));
    return new HostFile(this.mount, p, fd);
  }
  createDir(name: string): FsDir {
    const p = this.child(name);
    sys(`mkdir ${p}`, () => mkdirSync(p, 0o755));
    return new HostDir(this.mount, p);
  }
  createSymlink(name: string, target: string): FsSymlink {
    const p = this.child(name);
    sys(`symlink ${p}`, () => symlinkSync(target, p));
    return new HostSymlink(this.mount, p, target);
  }
  link(name: string, node: FsNode): void {
    if (!(node instanceof HostNodeBase) || node.mount !== this.mount)
      throw new FsError('EXDEV', 'hard link across filesystems');
    if (node.kind === 'dir') throw new FsError('EPERM', 'hard link to a directory');
    const p = this.child(name);
    sys(`link ${p}`, () => linkSync(node.path, p));
  }
  unlink(name: string): void {
    const p = this.child(name);
    sys(`unlink ${p}`, () => unlinkSync(p)); // Linux answers EISDIR for a directory itself
  }
  rmdir(name: string): void {
    const p = this.child(name);
    sys(`rmdir ${p}`, () => rmdirSync(p));
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof HostDir) || toDir.mount !== this.mount)
      throw new FsError('EXDEV', 'rename across filesystems');
    const from = this.child(name);
    const to = toDir.child(toName);
    sys(`rename ${from}`, () => renameSync(from, to));
  }
}
