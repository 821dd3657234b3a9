// An in-memory filesystem tree: the writable upper of an overlay, a volume, or a scratch root.
// Inode numbers come from a counter shared by one tree (see MemTree), so they are stable for a run.
// A tree may have a Space: the bytes its files, links, nodes and names hold in memory are counted
// against a limit, as tmpfs's size= does, and what would pass it fails with ENOSPC. Without one, a
// program writing files in its writable layer grew the host's memory without end (4 GiB of one
// file took `berth run` to 6.3 GB of RSS; in a browser, a tab or the Service Worker dies first).
import {
  FsError,
  type FsDir,
  type FsFile,
  type FsNode,
  type FsOpenFile,
  type FsStat,
  type FsSymlink,
} from '../core/index.ts';

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** What a node costs beside its bytes (the object, its times), and a name in a directory beside its characters. */
const NODE_BYTES = 160;
const ENTRY_BYTES = 64;
/** Unused capacity worth a copy to give back (see MemFile.trim). */
const TRIM_SLACK = 64 * 1024;

/** What a run's files may hold in memory unless told otherwise (services: ServiceLimits.filesBytes). */
export const DEFAULT_RUN_FILES_BYTES = 2 ** 30;

/**
 * The memory the in-memory trees of one run may hold (its writable layer and its volumes share
 * one): bytes of file contents as allocated, symlink targets, nodes and names. A file's bytes
 * come back when its last name and its last open handle are gone; a directory's when removed.
 */
/** How far past its limit a Space counts markers: some 250 whiteouts. */
export const FORCED_SLACK = 64 * 1024;

export class Space {
  used = 0;
  constructor(readonly limit: number) {}
  take(n: number): void {
    if (n <= 0) return;
    this.check(n);
    this.used += n;
  }
  /** Throws ENOSPC unless `n` more bytes fit; takes nothing. */
  check(n: number): void {
    if (this.used + n > this.limit)
      throw new FsError('ENOSPC', `no space left: the run's files may hold ${this.limit} bytes in memory`);
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
  /**
   * Counts `n` bytes past the limit if need be, by at most FORCED_SLACK: for what must not fail
   * (MemDir.createMarker), bounded still against a program that makes markers on purpose.
   */
  force(n: number): void {
    if (n <= 0) return;
    if (this.used + n > this.limit + FORCED_SLACK)
      throw new FsError('ENOSPC', `no space left: the run's files may hold ${this.limit} bytes in memory`);
    this.used += n;
  }
}

/** Shared state of one tree: the inode counter, the device id, and the Space it counts against. */
export class MemTree {
  private nextIno = 1n;
  constructor(
    readonly dev: bigint = 1n,
    readonly space?: Space,
  ) {}
  allocIno(): bigint {
    return this.nextIno++;
  }
  private forced = 0;
  take(n: number): void {
    if (this.forced > 0) this.space?.force(n);
    else this.space?.take(n);
  }
  /** Runs `make` with what it takes counted but never refused. */
  forcing<T>(make: () => T): T {
    this.forced++;
    try {
      return make();
    } finally {
      this.forced--;
    }
  }
  /** Throws ENOSPC unless `n` bytes (and a node) would fit now; takes nothing. */
  mustFit(n: number): void {
    this.space?.check(n + NODE_BYTES);
  }
  give(n: number): void {
    this.space?.give(n);
  }
  createRoot(mode = 0o755): MemDir {
    return new MemDir(this, mode);
  }
}

abstract class MemNodeBase {
  readonly ino: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  nlink = 1n;
  constructor(
    readonly tree: MemTree,
    public mode: number,
    time: bigint = nowNs(),
    /** Bytes held beside the node itself (a file's contents, a symlink's target). */
    bytes = 0,
  ) {
    tree.take(NODE_BYTES + bytes);
    this.ino = tree.allocIno();
    this.atim = this.mtim = this.ctim = time;
  }
  /** Whether its bytes were given back (gone from every directory, no handle open). */
  protected released = false;
  /** Gone from every directory and given back: a removed directory takes no entries. */
  get removed(): boolean {
    return this.released;
  }
  /** A name of it went away (nlink was lowered): released if nothing reaches it any more. */
  unlinked(): void {
    if (this.nlink <= 0n && this.openHandles() === 0 && !this.released) {
      this.released = true;
      this.tree.give(NODE_BYTES + this.release());
    }
  }
  protected openHandles(): number {
    return 0;
  }
  /** Drops what the node holds; returns its bytes beside the node. */
  protected abstract release(): number;
  abstract get kind(): FsNode['kind'];
  abstract sizeOf(): bigint;
  stat(): FsStat {
    return {
      dev: this.tree.dev,
      ino: this.ino,
      kind: this.kind,
      nlink: this.nlink,
      size: this.sizeOf(),
      atim: this.atim,
      mtim: this.mtim,
      ctim: this.ctim,
      mode: this.mode,
    };
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    if (atim !== null) this.atim = atim;
    if (mtim !== null) this.mtim = mtim;
    this.ctim = nowNs();
  }
}

export class MemFile extends MemNodeBase implements FsFile {
  readonly kind = 'file' as const;
  private buf: Uint8Array;
  private len: number;
  /** Open handles (open()): the bytes stay counted while one is open, even with no name left. */
  handles = 0;
  /**
   * Never released: a copy of a lower file with other names in the lower (its hard links), which
   * the overlay still reaches through them after this name is gone.
   */
  pinned = false;
  constructor(tree: MemTree, data: Uint8Array = new Uint8Array(0), mode = 0o644, time?: bigint) {
    super(tree, mode, time, data.length);
    this.buf = data;
    this.len = data.length;
  }
  protected openHandles(): number {
    return this.pinned ? 1 : this.handles;
  }
  protected release(): number {
    const n = this.buf.length;
    this.buf = new Uint8Array(0);
    this.len = 0;
    return n;
  }
  /** A handle for a descriptor: the file's bytes stay while it is open, whatever becomes of its names. */
  open(): FsOpenFile {
    this.handles++;
    let open = true;
    return fileHandle(this, () => {
      if (!open) return;
      open = false;
      this.closeHandle();
    });
  }
  /** One open handle of it closed: the last gives back its slack, and it, if it has no name. */
  closeHandle(): void {
    this.handles--;
    if (this.handles === 0) this.trim();
    this.unlinked();
  }
  sizeOf(): bigint {
    return BigInt(this.len);
  }
  /** The file's bytes (a view, not a copy). */
  contents(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  read(position: number, into: Uint8Array): number {
    if (position >= this.len) return 0;
    const n = Math.min(into.length, this.len - position);
    into.set(this.buf.subarray(position, position + n));
    return n;
  }
  write(position: number, data: Uint8Array): number {
    const end = position + data.length;
    this.ensureCapacity(end);
    if (position > this.len) this.buf.fill(0, this.len, position);
    this.buf.set(data, position);
    if (end > this.len) this.len = end;
    this.mtim = this.ctim = nowNs();
    return data.length;
  }
  truncate(size: number): void {
    if (size < 0) throw new FsError('EINVAL', 'negative size');
    if (size > this.len) {
      this.ensureCapacity(size);
      this.buf.fill(0, this.len, size);
    }
    this.len = size;
    this.trim();
    this.mtim = this.ctim = nowNs();
  }
  /**
   * Gives back what growing left unused (doubling), once the file is closed or cut: three files
   * written in appends otherwise held up to twice their bytes in the count.
   */
  trim(): void {
    const slack = this.buf.length - this.len;
    if (this.released || slack < TRIM_SLACK) return;
    this.buf = this.buf.slice(0, this.len);
    this.tree.give(slack);
  }
  // Grow geometrically so many small appends stay linear overall.
  private ensureCapacity(n: number): void {
    if (n <= this.buf.length) return;
    if (n > 2 ** 32) throw new FsError('EFBIG', 'an in-memory file is limited to 4 GiB');
    let size = Math.max(n, Math.min(this.buf.length * 2, 2 ** 32), 64);
    // Near the limit, grow by half of what is left (doubling would refuse a write that fits, and
    // growing by what each write asks made appends copy the whole file each time: 89 s for 48 MiB
    // in 4 KiB appends under 64 MiB).
    const space = this.tree.space;
    if (space && space.used + (size - this.buf.length) > space.limit)
      size = Math.max(n, this.buf.length + Math.floor((space.limit - space.used) / 2));
    // A released file (no name, no handle: nothing should reach it) is counted again as it grows.
    this.tree.take(size - this.buf.length);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/** An open handle of a file (a MemFile, an overlay's file): its operations, until closed. */
export function fileHandle(file: FsFile, close: () => void): FsOpenFile {
  return {
    kind: 'file',
    stat: () => file.stat(),
    setTimes: (a, m) => file.setTimes(a, m),
    read: (position, into) => file.read(position, into),
    write: (position, data) => file.write(position, data),
    truncate: (size) => file.truncate(size),
    close,
  };
}

export class MemSymlink extends MemNodeBase implements FsSymlink {
  readonly kind = 'symlink' as const;
  constructor(
    tree: MemTree,
    readonly target: string,
    time?: bigint,
  ) {
    super(tree, 0o777, time, target.length * 2);
  }
  protected release(): number {
    return this.target.length * 2;
  }
  sizeOf(): bigint {
    return BigInt(new TextEncoder().encode(this.target).length);
  }
}

export class MemDir extends MemNodeBase implements FsDir {
  readonly kind = 'dir' as const;
  private readonly children = new Map<string, MemNode>();
  constructor(tree: MemTree, mode = 0o755, time?: bigint) {
    super(tree, mode, time);
  }
  sizeOf(): bigint {
    return 4096n;
  }
  protected release(): number {
    return 0;
  }
  lookup(name: string): MemNode | undefined {
    return this.children.get(name);
  }
  entries(): Iterable<[string, MemNode]> {
    return this.children.entries();
  }
  get size(): number {
    return this.children.size;
  }
  /** A removed directory takes no new entries (ENOENT, as on POSIX), which nothing could reach or give back. */
  private checkLive(): void {
    if (this.released) throw new FsError('ENOENT', 'the directory was removed');
  }
  private checkFree(name: string): void {
    if (this.children.has(name)) throw new FsError('EEXIST', `${name} exists`);
  }
  private touch(): void {
    this.mtim = this.ctim = nowNs();
  }
  /** Puts a node under `name`, replacing nothing (EEXIST). */
  attach<T extends MemNode>(name: string, node: T): T {
    this.checkLive();
    this.checkFree(name);
    this.tree.take(entryBytes(name));
    this.children.set(name, node);
    this.touch();
    return node;
  }
  /** Takes `name` out of the children, giving back what its entry held. */
  private detach(name: string): void {
    if (this.children.delete(name)) this.tree.give(entryBytes(name));
  }
  createFile(name: string): MemFile {
    return this.attachNew(name, new MemFile(this.tree));
  }
  createDir(name: string): MemDir {
    return this.attachNew(name, new MemDir(this.tree));
  }
  /**
   * An empty file an overlay marks a change with (a whiteout, an opaque directory): counted, but
   * not refused at the limit (up to FORCED_SLACK past it), so a removal that was done is not half
   * done (the name gone and the image's file back) when the files are full.
   */
  createMarker(name: string): MemFile {
    return this.tree.forcing(() => this.createFile(name));
  }
  /** Throws ENOSPC unless one more entry named `name` fits now; takes nothing. */
  mustFitName(name: string): void {
    this.tree.space?.check(entryBytes(name));
  }
  createSymlink(name: string, target: string): MemSymlink {
    return this.attachNew(name, new MemSymlink(this.tree, target));
  }
  /** Attaches a node made for it; one that cannot be attached is given back. */
  private attachNew<T extends MemNode>(name: string, node: T): T {
    try {
      return this.attach(name, node);
    } catch (e) {
      node.nlink = 0n;
      node.unlinked();
      throw e;
    }
  }
  link(name: string, node: FsNode): void {
    if (!(node instanceof MemNodeBase) || node.tree !== this.tree)
      throw new FsError('EXDEV', 'hard link across filesystems');
    if (node.kind === 'dir') throw new FsError('EPERM', 'hard link to a directory');
    this.attach(name, node as MemNode);
    node.nlink++;
    node.ctim = nowNs();
  }
  unlink(name: string): void {
    const node = this.children.get(name);
    if (!node) throw new FsError('ENOENT', `${name} does not exist`);
    if (node.kind === 'dir') throw new FsError('EISDIR', `${name} is a directory`);
    this.detach(name);
    node.nlink--;
    node.unlinked();
    this.touch();
  }
  rmdir(name: string): void {
    const node = this.children.get(name);
    if (!node) throw new FsError('ENOENT', `${name} does not exist`);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', `${name} is not a directory`);
    if (node.children.size > 0) throw new FsError('ENOTEMPTY', `${name} is not empty`);
    this.detach(name);
    node.nlink = 0n;
    node.unlinked();
    this.touch();
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof MemDir) || toDir.tree !== this.tree) throw new FsError('EXDEV', 'rename across filesystems');
    const node = this.children.get(name);
    if (!node) throw new FsError('ENOENT', `${name} does not exist`);
    toDir.checkLive();
    const existing = toDir.children.get(toName);
    if (existing === node) return;
    if (node.kind === 'dir' && (toDir === node || toDir.isInside(node))) {
      throw new FsError('EINVAL', 'cannot move a directory into itself');
    }
    if (existing) {
      if (node.kind === 'dir') {
        if (existing.kind !== 'dir') throw new FsError('ENOTDIR', `${toName} is not a directory`);
        if (existing.children.size > 0) throw new FsError('ENOTEMPTY', `${toName} is not empty`);
      } else if (existing.kind === 'dir') {
        throw new FsError('EISDIR', `${toName} is a directory`);
      }
    }
    // The new name first: without the space for it, nothing has changed.
    if (!existing) toDir.tree.take(entryBytes(toName));
    if (existing) {
      existing.nlink = existing.kind === 'dir' ? 0n : existing.nlink - 1n;
      existing.unlinked();
    }
    this.detach(name);
    toDir.children.set(toName, node);
    this.touch();
    toDir.touch();
    node.ctim = nowNs();
  }
  private isInside(ancestor: MemDir): boolean {
    for (const child of ancestor.children.values()) {
      if (child === this) return true;
      if (child.kind === 'dir' && this.isInside(child)) return true;
    }
    return false;
  }
}

/** What a directory entry holds in memory: its name (UTF-16) and the entry. */
function entryBytes(name: string): number {
  return ENTRY_BYTES + name.length * 2;
}

export type MemNode = MemFile | MemDir | MemSymlink;
