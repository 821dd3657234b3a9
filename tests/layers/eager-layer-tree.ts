// The eager buildLayerTree that runtime/vfs/layer-tree.ts replaced (git history: before the packed
// index), kept unchanged as the oracle for packed-layer-tree.test.ts. Not used by the runtime.
// A read-only tree merged from a stack of layer indexes (bottom layer first), per the OCI image
// spec: a layer's whiteouts and opaque markers hide what the layers BELOW put there, never its own
// entries; a directory entry over an existing directory updates its metadata and keeps its
// children; anything else replaces. File bytes are read lazily from the layer's ByteSource.
// Symlinks are never followed while building: an entry whose parent path meets a symlink (or a
// file) is refused with RuntimeError 'invalid-argument', so no entry lands outside its path.
import {
  FsError,
  RuntimeError,
  type FsDir,
  type FsFile,
  type FsNode,
  type FsStat,
  type FsSymlink,
} from '../../runtime/core/index.ts';
import type { ByteSource, LayerEntry, LayerIndex } from '../../runtime/core/index.ts';

interface LayerTreeLayer {
  index: LayerIndex;
  source: ByteSource;
}

interface LayerTreeOptions {
  /** Device id of every node in the tree (default 2). */
  dev?: bigint;
}

interface Meta {
  mode: number;
  mtim: bigint;
}

interface BuildFile extends Meta {
  kind: 'file';
  source: ByteSource;
  offset: number;
  size: number;
  nlink: number;
}
interface BuildSymlink extends Meta {
  kind: 'symlink';
  target: string;
  nlink: number;
}
interface BuildDir extends Meta {
  kind: 'dir';
  children: Map<string, BuildNode>;
}
type BuildNode = BuildFile | BuildSymlink | BuildDir;

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

function refuse(e: LayerEntry, layer: number, why: string): never {
  throw new RuntimeError('invalid-argument', `layer ${layer} entry "${e.path}": ${why}`);
}

export function buildEagerLayerTree(layers: LayerTreeLayer[], options: LayerTreeOptions = {}): FsDir {
  const root: BuildDir = { kind: 'dir', mode: 0o755, mtim: 0n, children: new Map() };

  const split = (path: string) => {
    const parts = path.split('/');
    const name = parts.pop()!;
    return { parts, name };
  };
  // Walks existing directories only; undefined if a component is missing or not a directory.
  const findDir = (parts: string[]): BuildDir | undefined => {
    let d = root;
    for (const p of parts) {
      const c = d.children.get(p);
      if (c?.kind !== 'dir') return undefined;
      d = c;
    }
    return d;
  };
  const find = (path: string): BuildNode | undefined => {
    const { parts, name } = split(path);
    return findDir(parts)?.children.get(name);
  };
  const drop = (n: BuildNode | undefined) => {
    if (n && n.kind !== 'dir') n.nlink--;
  };

  layers.forEach(({ index, source }, layer) => {
    // Pass 1: whiteouts and opaque markers act on the layers below only.
    for (const e of index.entries) {
      if (e.type === 'whiteout') {
        const { parts, name } = split(e.path);
        const d = findDir(parts);
        if (d) {
          drop(d.children.get(name));
          d.children.delete(name);
        }
      } else if (e.type === 'opaque') {
        const d = find(e.path);
        if (d?.kind === 'dir') {
          for (const c of d.children.values()) drop(c);
          d.children.clear();
        }
      }
    }
    // Pass 2: this layer's own entries, in tar order.
    for (const e of index.entries) {
      if (e.type === 'whiteout' || e.type === 'opaque') continue;
      const { parts, name } = split(e.path);
      let d = root;
      for (const p of parts) {
        let c = d.children.get(p);
        if (!c) {
          c = { kind: 'dir', mode: 0o755, mtim: msToNs(e.mtime), children: new Map() };
          d.children.set(p, c);
        } else if (c.kind !== 'dir') {
          refuse(e, layer, `its parent path goes through a ${c.kind === 'symlink' ? 'symlink' : 'file'} ("${p}")`);
        }
        d = c;
      }
      const existing = d.children.get(name);
      const meta = { mode: e.mode & 0o7777, mtim: msToNs(e.mtime) };
      let node: BuildNode;
      switch (e.type) {
        case 'dir':
          if (existing?.kind === 'dir') {
            existing.mode = meta.mode;
            existing.mtim = meta.mtim;
            continue;
          }
          node = { kind: 'dir', ...meta, children: new Map() };
          break;
        case 'file':
          node = { kind: 'file', ...meta, source, offset: e.offset, size: e.size, nlink: 0 };
          break;
        case 'symlink':
          node = { kind: 'symlink', ...meta, target: e.linkname ?? '', nlink: 0 };
          break;
        case 'hardlink': {
          const target = e.linkname === undefined ? undefined : find(e.linkname);
          if (!target || target.kind === 'dir')
            refuse(e, layer, `hardlink target "${e.linkname}" is not an existing file`);
          if (target === existing) continue;
          node = target;
          break;
        }
        default:
          continue;
      }
      drop(existing);
      if (node.kind !== 'dir') node.nlink++;
      d.children.set(name, node);
    }
  });

  const dev = options.dev ?? 2n;
  let nextIno = 1n;
  // Frozen lazily, one directory at a time as it is first listed or looked into, so a request
  // pays only for the directories it touches. Inode numbers are handed out in that order: stable
  // within a run (the tree is per run), as the overlay needs. Hardlinks share one frozen node.
  const made = new Map<BuildNode, FsNode>();
  const freeze = (n: BuildNode): FsNode => {
    let f = made.get(n);
    if (f) return f;
    const ino = nextIno++;
    if (n.kind === 'file') f = new LayerFile(dev, ino, n);
    else if (n.kind === 'symlink') f = new LayerSymlink(dev, ino, n);
    else f = new LayerDir(dev, ino, n, freeze);
    made.set(n, f);
    return f;
  };
  return freeze(root) as FsDir;
}

function rofs(): never {
  throw new FsError('EROFS', 'the image layers are read-only');
}

abstract class LayerNode {
  constructor(
    readonly dev: bigint,
    readonly ino: bigint,
    protected readonly meta: Meta,
  ) {}
  abstract get kind(): FsNode['kind'];
  protected abstract size(): bigint;
  protected abstract links(): bigint;
  stat(): FsStat {
    const t = this.meta.mtim;
    return {
      dev: this.dev,
      ino: this.ino,
      kind: this.kind,
      nlink: this.links(),
      size: this.size(),
      atim: t,
      mtim: t,
      ctim: t,
      mode: this.meta.mode,
    };
  }
  setTimes(): void {
    rofs();
  }
}

class LayerFile extends LayerNode implements FsFile {
  readonly kind = 'file' as const;
  constructor(
    dev: bigint,
    ino: bigint,
    private readonly n: BuildFile,
  ) {
    super(dev, ino, n);
  }
  protected size(): bigint {
    return BigInt(this.n.size);
  }
  protected links(): bigint {
    return BigInt(this.n.nlink);
  }
  read(position: number, into: Uint8Array): number {
    if (position >= this.n.size) return 0;
    const want = Math.min(into.length, this.n.size - position);
    const view = want === into.length ? into : into.subarray(0, want);
    let done = 0;
    while (done < want) {
      const k = this.n.source.read(this.n.offset + position + done, view.subarray(done));
      if (k <= 0) throw new FsError('EIO', 'the layer blob is shorter than its index says');
      done += k;
    }
    return done;
  }
  write(): number {
    rofs();
  }
  truncate(): void {
    rofs();
  }
}

class LayerSymlink extends LayerNode implements FsSymlink {
  readonly kind = 'symlink' as const;
  readonly target: string;
  constructor(
    dev: bigint,
    ino: bigint,
    private readonly n: BuildSymlink,
  ) {
    super(dev, ino, n);
    this.target = n.target;
  }
  protected size(): bigint {
    return BigInt(new TextEncoder().encode(this.target).length);
  }
  protected links(): bigint {
    return BigInt(this.n.nlink);
  }
}

class LayerDir extends LayerNode implements FsDir {
  readonly kind = 'dir' as const;
  private frozen?: Map<string, FsNode>;
  constructor(
    dev: bigint,
    ino: bigint,
    private readonly n: BuildDir,
    private readonly freeze: (n: BuildNode) => FsNode,
  ) {
    super(dev, ino, n);
  }
  /** Name -> node, sorted by name; built on first use. */
  get children(): Map<string, FsNode> {
    if (!this.frozen) {
      this.frozen = new Map();
      for (const name of [...this.n.children.keys()].sort())
        this.frozen.set(name, this.freeze(this.n.children.get(name)!));
    }
    return this.frozen;
  }
  protected size(): bigint {
    return 4096n;
  }
  protected links(): bigint {
    let dirs = 0;
    for (const c of this.n.children.values()) if (c.kind === 'dir') dirs++;
    return BigInt(2 + dirs);
  }
  lookup(name: string): FsNode | undefined {
    if (this.frozen) return this.frozen.get(name);
    const c = this.n.children.get(name);
    return c && this.freeze(c);
  }
  entries(): Iterable<[string, FsNode]> {
    return this.children.entries();
  }
  createFile(): FsFile {
    rofs();
  }
  createDir(): FsDir {
    rofs();
  }
  createSymlink(): FsSymlink {
    rofs();
  }
  link(): void {
    rofs();
  }
  unlink(): void {
    rofs();
  }
  rmdir(): void {
    rofs();
  }
  rename(): void {
    rofs();
  }
}
