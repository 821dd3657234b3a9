// Mounts directories (volumes) at paths of a root tree. Words: a "mount point" is the path where a
// mounted dir replaces whatever the root had; a "volume" is one mounted tree (or the root itself).
// Every directory seen through the result is wrapped, so a rename or hard link can tell which
// volume each side is on: across volumes is EXDEV, and a mount point itself cannot be removed,
// renamed or replaced (EPERM; POSIX says EBUSY, which the contract has no name for).
import { FsError, type FsDir, type FsFile, type FsNode, type FsStat, type FsSymlink } from '../core/index.ts';
import { normalizeMountPath } from './normalize-mount-path.ts';
import { MemTree } from './mem-tree.ts';
import { readOnlyDir } from './read-only.ts';

interface MountTrie {
  dir?: FsDir;
  children: Map<string, MountTrie>;
}

class MountDir implements FsDir {
  readonly kind = 'dir' as const;
  constructor(
    readonly inner: FsDir,
    readonly trie: MountTrie,
    /** Which volume: the root's object or a mounted dir. */
    readonly volume: object,
  ) {}
  stat(): FsStat {
    return this.inner.stat();
  }
  setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.inner.setTimes(atim, mtim);
  }
  private wrap(node: FsNode | undefined, sub: MountTrie | undefined): FsNode | undefined {
    if (node?.kind !== 'dir') return node;
    return new MountDir(node, sub ?? EMPTY, this.volume);
  }
  private isMount(name: string): boolean {
    return this.trie.children.has(name);
  }
  private busy(name: string): never {
    throw new FsError('EPERM', `${name} is a mount point`);
  }
  lookup(name: string): FsNode | undefined {
    const sub = this.trie.children.get(name);
    if (sub) {
      if (sub.dir) return new MountDir(sub.dir, sub, sub.dir);
      const inner = this.inner.lookup(name);
      // A path leading to a deeper mount: the root's dir if it has one, else an empty stand-in.
      return new MountDir(
        inner?.kind === 'dir' ? inner : placeholder(),
        sub,
        inner?.kind === 'dir' ? this.volume : sub,
      );
    }
    return this.wrap(this.inner.lookup(name), undefined);
  }
  entries(): Iterable<[string, FsNode]> {
    const out: [string, FsNode][] = [];
    for (const [name] of this.inner.entries()) {
      // A name listed that no lookup finds (a host file whose name is not UTF-8, so not the name
      // decoded; or one removed meanwhile) is left out, as the host directory itself leaves it.
      const node = this.lookup(name);
      if (node) out.push([name, node]);
    }
    for (const name of this.trie.children.keys()) {
      if (!this.inner.lookup(name)) out.push([name, this.lookup(name)!]);
    }
    return out;
  }
  createFile(name: string): FsFile {
    if (this.isMount(name)) throw new FsError('EEXIST', `${name} exists`);
    return this.inner.createFile(name);
  }
  createDir(name: string): FsDir {
    if (this.isMount(name)) throw new FsError('EEXIST', `${name} exists`);
    return this.wrap(this.inner.createDir(name), undefined) as FsDir;
  }
  createSymlink(name: string, target: string): FsSymlink {
    if (this.isMount(name)) throw new FsError('EEXIST', `${name} exists`);
    return this.inner.createSymlink(name, target);
  }
  link(name: string, node: FsNode): void {
    if (this.isMount(name)) throw new FsError('EEXIST', `${name} exists`);
    // Files are not wrapped: the inner tree itself refuses (EXDEV) a node of another volume.
    this.inner.link(name, node instanceof MountDir ? node.inner : node);
  }
  unlink(name: string): void {
    if (this.isMount(name)) throw new FsError('EISDIR', `${name} is a directory`);
    this.inner.unlink(name);
  }
  rmdir(name: string): void {
    if (this.isMount(name)) this.busy(name);
    this.inner.rmdir(name);
  }
  rename(name: string, toDir: FsDir, toName: string): void {
    if (!(toDir instanceof MountDir) || toDir.volume !== this.volume)
      throw new FsError('EXDEV', 'rename across a mount boundary');
    if (this.isMount(name)) this.busy(name);
    if (toDir.isMount(toName)) toDir.busy(toName);
    this.inner.rename(name, toDir.inner, toName);
  }
}

const EMPTY: MountTrie = { children: new Map() };
let placeholderTree: MemTree | undefined;
/**
 * An empty, read-only stand-in for a missing parent of a mount point: what a program creates
 * there would be in memory no run's Space counts (EROFS instead).
 */
function placeholder(): FsDir {
  placeholderTree ??= new MemTree(0n);
  return readOnlyDir(placeholderTree.createRoot(0o555));
}

/** `root` with each `dir` mounted at its `path` (relative, '/'-separated; '' is refused). */
export function withMounts(root: FsDir, mounts: { path: string; dir: FsDir }[]): FsDir {
  const trie: MountTrie = { children: new Map() };
  for (const m of mounts) {
    const parts = normalizeMountPath(m.path);
    let t = trie;
    for (const p of parts) {
      let c = t.children.get(p);
      if (!c) t.children.set(p, (c = { children: new Map() }));
      t = c;
    }
    t.dir = m.dir;
  }
  return new MountDir(root, trie, root);
}
