// An in-memory filesystem tree: the writable upper of an overlay, a volume, or a scratch root.
// Inode numbers come from a counter shared by one tree (see MemTree), so they are stable for a run.
import { FsError, type FsDir, type FsFile, type FsNode, type FsStat, type FsSymlink } from '../core/index.ts';

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Shared state of one tree: the inode counter and the device id. */
export class MemTree {
  private nextIno = 1n;
  constructor(readonly dev: bigint = 1n) {}
  allocIno(): bigint {
    return this.nextIno++;
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
  ) {
    this.ino = tree.allocIno();
    this.atim = this.mtim = this.ctim = time;
  }
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
  constructor(tree: MemTree, data: Uint8Array = new Uint8Array(0), mode = 0o644, time?: bigint) {
    super(tree, mode, time);
    this.buf = data;
    this.len = data.length;
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
    this.mtim = this.ctim = nowNs();
  }
  // Grow geometrically so many small appends stay linear overall.
  private ensureCapacity(n: number): void {
    if (n <= this.buf.length) return;
    if (n > 2 ** 32) throw new FsError('EFBIG', 'an in-memory file is limited to 4 GiB');
    const next = new Uint8Array(Math.max(n, Math.min(this.buf.length * 2, 2 ** 32), 64));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

export class MemSymlink extends MemNodeBase implements FsSymlink {
  readonly kind = 'symlink' as const;
  constructor(
    tree: MemTree,
    readonly target: string,
    time?: bigint,
  ) {
    super(tree, 0o777, time);
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
  lookup(name: string): MemNode | undefined {
    return this.children.get(name);
  }
  entries(): Iterable<[string, MemNode]> {
    return this.children.entries();
  }
  get size(): number {
    return this.children.size;
  }
  private checkFree(name: string): void {
    if (this.children.has(name)) throw new FsError('EEXIST', `${name} exists`);
  }
  private touch(): void {
    this.mtim = this.ctim = nowNs();
  }
  /** Puts a node under `name`, replacing nothing (EEXIST). */
  attach<T extends MemNode>(name: string, node: T): T {
    this.checkFree(name);
    this.children.set(name, node);
    this.touch();
    return node;
  }
  createFile(name: string): MemFile {
    return this.attach(name, new MemFile(this.tree));
  }
  createDir(name: string): MemDir {
    return this.attach(name, new MemDir(this.tree));
  }
  createSymlink(name: string, target: string): MemSymlink {
    return this.attach(name, new MemSymlink(this.tree, target));
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
    this.children.delete(name);
    node.nlink--;
    this.touch();
  }
  rmdir(name: string): void {
    const node = this.children.get(name);
    if (!node) throw new FsError('ENOENT', `${name} does not exist`);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', `${name} is not a directory`);
    if (node.children.size > 0) throw new FsError('ENOTEMPTY', `${name} is not empty`);
    this.children.delete(name);
    this.touch();
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof MemDir) || toDir.tree !== this.tree) throw new FsError('EXDEV', 'rename across filesystems');
    const node = this.children.get(name);
    if (!node) throw new FsError('ENOENT', `${name} does not exist`);
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
      existing.nlink--;
    }
    this.children.delete(name);
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

export type MemNode = MemFile | MemDir | MemSymlink;
