// A writable overlay: a read-only lower tree seen through a writable upper MemDir.
// Words: "copy-up" copies a lower node (and the directories above it) into the upper before it
// changes; a "whiteout" is an empty upper file `.wh.<name>` that hides the lower `<name>`; an
// "opaque" directory holds `.wh..wh..opq` and hides everything below it in the lower. These are
// the OCI layer markers, so the upper can later be packed as a diff layer as it is. Names starting
// with `.wh.` are therefore reserved: never listed, and refused (EINVAL) when created.
// Overlay inode numbers come from the overlay itself and survive copy-up. A directory rename with
// a lower part copies the whole subtree up first (simple, and costly for big trees).
// Hardlinks of the lower stay linked through the overlay: a copied-up node is found by its lower node.
import {
  FsError,
  type FsDir,
  type FsFile,
  type FsNode,
  type FsOpenFile,
  type FsStat,
  type FsSymlink,
} from '../core/index.ts';
import { fileHandle, MemDir, MemFile, MemSymlink, type MemNode, type MemTree } from './mem-tree.ts';

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

class Overlay {
  private nextIno = 1n;
  private readonly inos = new WeakMap<object, bigint>();
  /** Lower node -> its upper copy. */
  readonly copies = new WeakMap<object, MemNode>();
  /** Lower file -> handles open on it before it had an upper copy (they move to the copy). */
  readonly pendingHandles = new WeakMap<object, number>();
  pend(lower: FsNode, delta: number): void {
    this.pendingHandles.set(lower, (this.pendingHandles.get(lower) ?? 0) + delta);
  }
  readonly tree: MemTree;
  constructor(readonly upperRoot: MemDir) {
    this.tree = upperRoot.tree;
  }
  inoOf(n: object): bigint {
    let ino = this.inos.get(n);
    if (ino === undefined) {
      ino = this.nextIno++;
      this.inos.set(n, ino);
    }
    return ino;
  }
  recordCopy(lower: FsNode, upper: MemNode): void {
    this.copies.set(lower, upper);
    this.inos.set(upper, this.inoOf(lower));
  }
  wrap(parent: OverlayDir, name: string, upper: MemNode | undefined, lower: FsNode | undefined): FsNode {
    const kind = (upper ?? lower)!.kind;
    if (kind === 'dir')
      return new OverlayDir(this, parent, name, upper as MemDir | undefined, lower as FsDir | undefined);
    if (kind === 'file')
      return new OverlayFile(this, parent, name, upper as MemFile | undefined, lower as FsFile | undefined);
    return new OverlaySymlink(this, parent, name, upper as MemSymlink | undefined, lower as FsSymlink | undefined);
  }
}

function checkName(name: string): void {
  if (name.startsWith(WH)) throw new FsError('EINVAL', `names starting with "${WH}" are reserved by the overlay`);
}

abstract class OverlayNodeBase<U extends MemNode, L extends FsNode> {
  constructor(
    readonly ov: Overlay,
    readonly parent: OverlayDir | undefined,
    readonly name: string,
    protected upperNode: U | undefined,
    readonly lower: L | undefined,
  ) {}
  /** The upper node, including one copied up through another path or object. */
  upper(): U | undefined {
    if (this.upperNode) return this.upperNode;
    if (this.lower) {
      const c = this.ov.copies.get(this.lower) as U | undefined;
      if (c) this.upperNode = c;
    }
    return this.upperNode;
  }
  current(): U | L {
    return (this.upper() ?? this.lower)!;
  }
  identity(): object {
    return this.lower ?? this.upperNode!;
  }
  stat(): FsStat {
    const s = this.current().stat();
    return { ...s, dev: this.ov.tree.dev, ino: this.ov.inoOf(this.identity()) };
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.copyUp().setTimes(atim, mtim);
  }
  abstract copyUp(): U;
}

class OverlayFile extends OverlayNodeBase<MemFile, FsFile> implements FsFile {
  readonly kind = 'file' as const;
  read(position: number, into: Uint8Array): number {
    return this.current().read(position, into);
  }
  write(position: number, data: Uint8Array): number {
    return this.copyUp().write(position, data);
  }
  truncate(size: number): void {
    this.copyUp().truncate(size);
  }
  /**
   * A handle for a descriptor. It counts on the upper copy (now, or once it is made), whose bytes
   * then stay while the handle is open, whatever becomes of its names (see MemFile.open).
   */
  open(): FsOpenFile {
    const counted = this.upper();
    if (counted) counted.handles++;
    else this.ov.pend(this.lower!, 1);
    let open = true;
    return fileHandle(this, () => {
      if (!open) return;
      open = false;
      const u = this.upper();
      if (u) u.closeHandle();
      else this.ov.pend(this.lower!, -1);
    });
  }
  copyUp(): MemFile {
    const u = this.upper();
    if (u) return u;
    const lower = this.lower!;
    const s = lower.stat();
    // A handle may outlive the name it was opened by: then the copy has no name (a write must not
    // bring the deleted file back, or land on a file made since under its name).
    const named = this.parent!.showsLower(this.name, lower);
    // The directories above first, and whether the copy fits before the image's bytes are read.
    const dir = named ? this.parent!.ensureUpper() : undefined;
    this.ov.tree.mustFit(Number(s.size));
    const data = new Uint8Array(Number(s.size));
    let at = 0;
    while (at < data.length) {
      const k = lower.read(at, data.subarray(at));
      if (k <= 0) break;
      at += k;
    }
    const file = new MemFile(this.ov.tree, data.subarray(0, at), s.mode, s.mtim);
    file.atim = s.atim;
    if (dir) attachCopy(dir, this.name, file);
    else file.nlink = 0n;
    // Its other names in the lower reach this copy too (Overlay.copies): it is never released.
    file.pinned = s.nlink > 1n;
    file.handles = this.ov.pendingHandles.get(lower) ?? 0;
    this.ov.pendingHandles.delete(lower);
    this.ov.recordCopy(lower, file);
    this.upperNode = file;
    return file;
  }
}

class OverlaySymlink extends OverlayNodeBase<MemSymlink, FsSymlink> implements FsSymlink {
  readonly kind = 'symlink' as const;
  get target(): string {
    return this.current().target;
  }
  copyUp(): MemSymlink {
    const u = this.upper();
    if (u) return u;
    const lower = this.lower!;
    const s = lower.stat();
    const dir = this.parent!.ensureUpper();
    const link = new MemSymlink(this.ov.tree, lower.target, s.mtim);
    attachCopy(dir, this.name, link);
    this.ov.recordCopy(lower, link);
    this.upperNode = link;
    return link;
  }
}

class OverlayDir extends OverlayNodeBase<MemDir, FsDir> implements FsDir {
  readonly kind = 'dir' as const;

  private opaque(u: MemDir | undefined): boolean {
    return u?.lookup(OPAQUE) !== undefined;
  }
  /** Whether `name` here is still the lower node `lower` (no upper entry, no whiteout). */
  showsLower(name: string, lower: FsNode): boolean {
    const u = this.upper();
    return !u?.removed && !u?.lookup(name) && this.lowerVisible(name) === lower;
  }
  /** The lower entry `name` if the upper does not hide it. */
  private lowerVisible(name: string): FsNode | undefined {
    const u = this.upper();
    if (!this.lower || this.opaque(u) || u?.lookup(WH + name)) return undefined;
    return this.lower.lookup(name);
  }
  ensureUpper(): MemDir {
    const u = this.upper();
    if (u) return u;
    const lower = this.lower!;
    const parentUp = this.parent!.ensureUpper();
    const s = lower.stat();
    const dir = new MemDir(this.ov.tree, s.mode, s.mtim);
    dir.atim = s.atim;
    attachCopy(parentUp, this.name, dir);
    this.ov.recordCopy(lower, dir);
    this.upperNode = dir;
    return dir;
  }
  copyUp(): MemDir {
    return this.ensureUpper();
  }

  lookup(name: string): FsNode | undefined {
    if (name.startsWith(WH)) return undefined;
    const u = this.upper();
    const un = u?.lookup(name);
    const ln = un?.kind === 'dir' || !un ? this.lowerVisible(name) : undefined;
    if (un) {
      const lowerDir = un.kind === 'dir' && ln?.kind === 'dir' && !this.opaque(un) ? ln : undefined;
      return this.ov.wrap(this, name, un, lowerDir);
    }
    if (!ln) return undefined;
    return this.ov.wrap(this, name, undefined, ln);
  }
  entries(): Iterable<[string, FsNode]> {
    const out: [string, FsNode][] = [];
    const seen = new Set<string>();
    const u = this.upper();
    if (this.lower && !this.opaque(u)) {
      for (const [name] of this.lower.entries()) {
        const n = this.lookup(name);
        if (n) {
          out.push([name, n]);
          seen.add(name);
        }
      }
    }
    if (u) {
      for (const [name] of u.entries()) {
        if (seen.has(name) || name.startsWith(WH)) continue;
        out.push([name, this.lookup(name)!]);
      }
    }
    return out;
  }
  /**
   * Makes `name` in the upper with `make`, then takes away a whiteout of it: a make refused (ENOSPC)
   * leaves the whiteout, so the image's deleted `name` does not come back.
   */
  private create<T>(name: string, make: (up: MemDir) => T): T {
    checkName(name);
    if (this.lookup(name)) throw new FsError('EEXIST', `${name} exists`);
    const up = this.ensureUpper();
    const made = make(up);
    if (up.lookup(WH + name)) up.unlink(WH + name);
    return made;
  }
  private hidesLower(name: string): boolean {
    return !!this.lower && this.lower.lookup(name) !== undefined;
  }
  createFile(name: string): FsFile {
    const f = this.create(name, (up) => up.createFile(name));
    return this.ov.wrap(this, name, f, undefined) as FsFile;
  }
  createDir(name: string): FsDir {
    const hides = this.hidesLower(name);
    const d = this.create(name, (up) => {
      const made = up.createDir(name);
      // A new directory over a deleted lower one must not show the old contents.
      if (hides) made.createMarker(OPAQUE);
      return made;
    });
    return this.ov.wrap(this, name, d, undefined) as FsDir;
  }
  createSymlink(name: string, target: string): FsSymlink {
    const l = this.create(name, (up) => up.createSymlink(name, target));
    return this.ov.wrap(this, name, l, undefined) as FsSymlink;
  }
  link(name: string, node: FsNode): void {
    if (!(node instanceof OverlayNodeBase) || node.ov !== this.ov)
      throw new FsError('EXDEV', 'hard link across filesystems');
    if (node.kind === 'dir') throw new FsError('EPERM', 'hard link to a directory');
    const target = (node as OverlayFile | OverlaySymlink).copyUp();
    this.create(name, (up) => up.link(name, target));
  }
  /** Removes `name` from the upper and hides the lower one; the caller checked the kind. */
  private remove(name: string): void {
    const up = this.ensureUpper();
    const hide = this.lowerVisible(name) !== undefined;
    const un = up.lookup(name);
    if (un?.kind === 'dir') {
      for (const [marker] of [...un.entries()]) un.unlink(marker); // only markers are left
      up.rmdir(name);
    } else if (un) up.unlink(name);
    if (hide) up.createMarker(WH + name);
  }
  unlink(name: string): void {
    const n = this.lookup(name);
    if (!n) throw new FsError('ENOENT', `${name} does not exist`);
    if (n.kind === 'dir') throw new FsError('EISDIR', `${name} is a directory`);
    this.remove(name);
  }
  rmdir(name: string): void {
    const n = this.lookup(name);
    if (!n) throw new FsError('ENOENT', `${name} does not exist`);
    if (n.kind !== 'dir') throw new FsError('ENOTDIR', `${name} is not a directory`);
    if (!isEmpty(n)) throw new FsError('ENOTEMPTY', `${name} is not empty`);
    this.remove(name);
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof OverlayDir) || toDir.ov !== this.ov) throw new FsError('EXDEV', 'rename across filesystems');
    const src = this.lookup(name) as OverlayFile | OverlaySymlink | OverlayDir | undefined;
    if (!src) throw new FsError('ENOENT', `${name} does not exist`);
    checkName(toName);
    const dst = toDir.lookup(toName);
    const srcIno = src.stat().ino;
    if (dst && dst.stat().ino === srcIno) return;
    if (src.kind === 'dir') {
      for (let d: OverlayDir | undefined = toDir; d; d = d.parent) {
        if (d.stat().ino === srcIno) throw new FsError('EINVAL', 'cannot move a directory into itself');
      }
    }
    if (dst) {
      if (src.kind === 'dir') {
        if (dst.kind !== 'dir') throw new FsError('ENOTDIR', `${toName} is not a directory`);
        if (!isEmpty(dst)) throw new FsError('ENOTEMPTY', `${toName} is not empty`);
      } else if (dst.kind === 'dir') {
        throw new FsError('EISDIR', `${toName} is a directory`);
      }
    }
    const hadLower = this.lowerVisible(name) !== undefined;
    const moved = src.kind === 'dir' ? deepCopyUp(src) : src.copyUp();
    const up = this.ensureUpper();
    // A lower hardlink copied up through another path: link it here first.
    if (up.lookup(name) !== moved) up.link(name, moved);
    const toUp = toDir.ensureUpper();
    // Room for the new name before anything is taken away: past here nothing is refused (what is
    // taken away first only gives back).
    toUp.mustFitName(toName);
    this.ov.tree.forcing(() => {
      if (dst) toDir.remove(toName);
      if (toUp.lookup(WH + toName)) toUp.unlink(WH + toName);
      up.rename(name, toUp, toName);
      if (hadLower) up.createMarker(WH + name);
      if (moved.kind === 'dir' && toDir.hidesLower(toName) && !moved.lookup(OPAQUE)) moved.createMarker(OPAQUE);
    });
  }
}

/** Attaches a node just copied up; one that cannot be attached (ENOSPC) gives back what it took. */
function attachCopy(dir: MemDir, name: string, node: MemNode): void {
  try {
    dir.attach(name, node);
  } catch (e) {
    node.nlink = 0n;
    node.unlinked();
    throw e;
  }
}

function isEmpty(d: FsDir): boolean {
  for (const _ of d.entries()) return false;
  return true;
}

/** Copies a directory and everything visible below it into the upper, then makes it opaque. */
function deepCopyUp(d: OverlayDir): MemDir {
  const up = d.ensureUpper();
  if (!d.lower) return up;
  for (const [, child] of d.entries()) {
    if (child instanceof OverlayDir) deepCopyUp(child);
    else (child as OverlayFile | OverlaySymlink).copyUp();
  }
  for (const [name] of [...up.entries()]) if (name.startsWith(WH) && name !== OPAQUE) up.unlink(name);
  if (!up.lookup(OPAQUE)) up.createMarker(OPAQUE);
  return up;
}

/** A writable view of `lower` with changes kept in `upper` (see the header comment). */
export function createOverlay(lower: FsDir, upper: MemDir): FsDir {
  const ov = new Overlay(upper);
  return new OverlayDir(ov, undefined, '', upper, lower);
}
