// A read-only tree merged from a stack of layer indexes (bottom layer first), per the OCI image
// spec: a layer's whiteouts and opaque markers hide what the layers BELOW put there, never its own
// entries; a directory entry over an existing directory updates its metadata and keeps its
// children; anything else replaces. File bytes are read lazily from the layer's ByteSource.
// Symlinks are never followed while building: an entry whose parent path meets a symlink (or a
// file) is refused with RuntimeError 'invalid-argument', so no entry lands outside its path.
//
// Lazy per directory: each layer is read in its packed form (packed-index.ts), and a directory's
// children are merged from the layers only when a lookup or listing first reaches it, from that
// directory's events in each layer (its whiteouts, its opaque marker, its entries in tar order, and
// "this child must be a directory here" for entries further down). So opening the tree costs
// O(layers), and a request pays for the directories it touches, not for the image's entry count.
// A refusal is therefore found when its directory is first merged; `validate` merges every
// directory up front so it is thrown by buildLayerTree itself.
import {
  FsError,
  RuntimeError,
  type FsDir,
  type FsFile,
  type FsNode,
  type FsStat,
  type FsSymlink,
  BytesPending,
} from '../core/index.ts';
import { PackedLayerIndex, PackedLayout } from './packed-index.ts';
import { encodeLayerIndex } from './packed-index-encode.ts';
import type { ByteSource, LayerIndex } from '../core/index.ts';

export interface LayerTreeLayer {
  /** The layer's index, or its packed form (encodeLayerIndex; what the image store keeps). */
  index: LayerIndex | Uint8Array;
  source: ByteSource;
}

export interface LayerTreeOptions {
  /** Device id of every node in the tree (default 2). */
  dev?: bigint;
  /**
   * Merge every directory now, so that a refused entry throws here rather than at the first
   * lookup that reaches its directory. Default: true if any layer is given as a LayerIndex (the
   * eager behaviour its callers expect), false when all are packed (the request path).
   */
  validate?: boolean;
}

interface Meta {
  mode: number;
  mtim: bigint;
}

/** Where a node comes from: its layer and entry; `group` is its hardlink group, or NONE. */
interface Origin {
  layer: number;
  group: number;
  nlink?: number;
}
interface BuildFile extends Meta, Origin {
  kind: 'file';
  source: ByteSource;
  offset: number;
  size: number;
}
interface BuildSymlink extends Meta, Origin {
  kind: 'symlink';
  target: string;
}
interface BuildDir extends Meta {
  kind: 'dir';
  path: string;
  /** The layer and entry that created this directory (entry -1: before any entry of that layer). */
  bornLayer: number;
  bornEntry: number;
  /** Merged on first use. */
  children?: Map<string, BuildNode>;
}
type BuildNode = BuildFile | BuildSymlink | BuildDir;

const NONE = PackedLayout.none;

function corrupt(why: string): never {
  throw new RuntimeError('data-loss', `the packed layer index is corrupt: ${why}; pull the image again`);
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

export function buildLayerTree(layers: LayerTreeLayer[], options: LayerTreeOptions = {}): FsDir {
  const packed = layers.map(({ index }, layer) => {
    if (index instanceof Uint8Array) return PackedLayerIndex.open(index);
    try {
      return PackedLayerIndex.open(encodeLayerIndex(index));
    } catch (e) {
      if (e instanceof RuntimeError) throw new RuntimeError(e.code, `layer ${layer}: ${e.message}`, { cause: e });
      throw e;
    }
  });
  const sources = layers.map((l) => l.source);
  const root: BuildDir = { kind: 'dir', path: '', mode: 0o755, mtim: 0n, bornLayer: 0, bornEntry: -1 };

  const refuse = (layer: number, entry: number, why: string): never => {
    throw new RuntimeError('invalid-argument', `layer ${layer} entry "${packed[layer].path(entry)}": ${why}`);
  };
  // Nodes shared by hardlinks, one per (layer, target entry).
  const shared = new Map<string, BuildFile | BuildSymlink>();
  const leaf = (layer: number, i: number): BuildFile | BuildSymlink => {
    const p = packed[layer];
    const group = p.link(i);
    const key = `${layer}:${i}`;
    if (group !== NONE) {
      const known = shared.get(key);
      if (known) return known;
    }
    const type = p.type(i);
    if (type !== 'file' && type !== 'symlink') corrupt(`entry ${i} of layer ${layer} is linked to but is a ${type}`);
    const meta = { mode: p.mode(i) & 0o7777, mtim: msToNs(p.mtime(i)), layer, group };
    const node: BuildFile | BuildSymlink =
      type === 'file'
        ? { kind: 'file', ...meta, source: sources[layer], offset: p.offset(i), size: p.fileSize(i) }
        : { kind: 'symlink', ...meta, target: p.linkname(i) ?? '' };
    if (group !== NONE) shared.set(key, node);
    return node;
  };

  const childrenOf = (d: BuildDir): Map<string, BuildNode> => {
    if (d.children) return d.children;
    const kids = new Map<string, BuildNode>();
    const key = new TextEncoder().encode(d.path);
    const prefix = d.path ? `${d.path}/` : '';
    // A name as packed: one path component (anything else means the bytes are damaged).
    const component = (name: string) => {
      if (name === '' || name === '.' || name === '..' || name.includes('/'))
        corrupt(`"${name}" in "${d.path}" is not a file name`);
      return name;
    };
    const dirs = packed.map((p, layer) => (layer < d.bornLayer ? -1 : p.findDir(key)));
    // An opaque marker in a layer above the one that made this directory hides all below it.
    let from = d.bornLayer;
    let fromEntry = d.bornEntry;
    for (let layer = d.bornLayer + 1; layer < packed.length; layer++) {
      if (dirs[layer] >= 0 && packed[layer].opaque(dirs[layer]) !== NONE) {
        from = layer;
        fromEntry = -1;
      }
    }
    for (let layer = from; layer < packed.length; layer++) {
      const di = dirs[layer];
      if (di < 0) continue;
      const p = packed[layer];
      // Whiteouts act on the layers below, before this layer's own entries.
      if (layer > d.bornLayer)
        for (const [i, child] of p.events(di)) if (child === NONE && p.type(i) === 'whiteout') kids.delete(p.name(i));
      for (const [i, child] of p.events(di)) {
        if (layer === from && i < fromEntry) continue;
        if (child !== NONE) {
          const path = p.dirPath(child);
          if (!path.startsWith(prefix)) corrupt(`directory "${path}" is listed under "${d.path}"`);
          const name = component(path.slice(prefix.length));
          const existing = kids.get(name);
          if (!existing) {
            kids.set(name, {
              kind: 'dir',
              path,
              mode: 0o755,
              mtim: msToNs(p.mtime(i)),
              bornLayer: layer,
              bornEntry: i,
            });
          } else if (existing.kind !== 'dir') {
            refuse(
              layer,
              i,
              `its parent path goes through a ${existing.kind === 'symlink' ? 'symlink' : 'file'} ("${name}")`,
            );
          }
          continue;
        }
        const type = p.type(i);
        if (type === 'whiteout' || type === 'opaque') continue;
        const name = component(p.name(i));
        const existing = kids.get(name);
        let node: BuildNode;
        if (type === 'dir') {
          const meta = { mode: p.mode(i) & 0o7777, mtim: msToNs(p.mtime(i)) };
          if (existing?.kind === 'dir') {
            existing.mode = meta.mode;
            existing.mtim = meta.mtim;
            continue;
          }
          node = { kind: 'dir', ...meta, path: d.path ? `${d.path}/${name}` : name, bornLayer: layer, bornEntry: i };
        } else if (type === 'hardlink') {
          node = leaf(layer, p.link(i));
          if (node === existing) continue;
        } else {
          node = leaf(layer, i);
        }
        kids.set(name, node);
      }
    }
    d.children = kids;
    return kids;
  };

  // Where `path` leads in the merged tree, through directories only.
  const resolve = (path: string): BuildNode | undefined => {
    let n: BuildNode = root;
    for (const part of path.split('/')) {
      if (n.kind !== 'dir') return undefined;
      const c: BuildNode | undefined = childrenOf(n).get(part);
      if (!c) return undefined;
      n = c;
    }
    return n;
  };
  // A hardlinked node's link count: the names of its group that still lead to it.
  const nlinkOf = (n: BuildFile | BuildSymlink): number => {
    if (n.group === NONE) return 1;
    if (n.nlink === undefined) {
      const p = packed[n.layer];
      const names = new Set(p.group(n.group).map((i) => p.path(i)));
      n.nlink = [...names].filter((path) => resolve(path) === n).length;
    }
    return n.nlink;
  };

  if (options.validate ?? layers.some((l) => !(l.index instanceof Uint8Array))) {
    const walk = (d: BuildDir) => {
      for (const c of childrenOf(d).values()) if (c.kind === 'dir') walk(c);
    };
    walk(root);
  }

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
    if (n.kind === 'file') f = new LayerFile(dev, ino, n, nlinkOf);
    else if (n.kind === 'symlink') f = new LayerSymlink(dev, ino, n, nlinkOf);
    else f = new LayerDir(dev, ino, n, freeze, childrenOf);
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
    private readonly nlinkOf: (n: BuildFile) => number,
  ) {
    super(dev, ino, n);
  }
  protected size(): bigint {
    return BigInt(this.n.size);
  }
  protected links(): bigint {
    return BigInt(this.nlinkOf(this.n));
  }
  read(position: number, into: Uint8Array): number {
    if (position >= this.n.size) return 0;
    const want = Math.min(into.length, this.n.size - position);
    const view = want === into.length ? into : into.subarray(0, want);
    let done = 0;
    while (done < want) {
      let k: number;
      try {
        k = this.n.source.read(this.n.offset + position + done, view.subarray(done));
      } catch (e) {
        // Bytes still to be loaded (BytesPending): what was read so far is a short read.
        if (done > 0 && e instanceof BytesPending) break;
        throw e;
      }
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
    private readonly nlinkOf: (n: BuildSymlink) => number,
  ) {
    super(dev, ino, n);
    this.target = n.target;
  }
  protected size(): bigint {
    return BigInt(new TextEncoder().encode(this.target).length);
  }
  protected links(): bigint {
    return BigInt(this.nlinkOf(this.n));
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
    private readonly childrenOf: (n: BuildDir) => Map<string, BuildNode>,
  ) {
    super(dev, ino, n);
  }
  /** Name -> node, sorted by name; built on first use. */
  get children(): Map<string, FsNode> {
    if (!this.frozen) {
      this.frozen = new Map();
      const kids = this.childrenOf(this.n);
      for (const name of [...kids.keys()].sort()) this.frozen.set(name, this.freeze(kids.get(name)!));
    }
    return this.frozen;
  }
  protected size(): bigint {
    return 4096n;
  }
  protected links(): bigint {
    let dirs = 0;
    for (const c of this.childrenOf(this.n).values()) if (c.kind === 'dir') dirs++;
    return BigInt(2 + dirs);
  }
  lookup(name: string): FsNode | undefined {
    if (this.frozen) return this.frozen.get(name);
    const c = this.childrenOf(this.n).get(name);
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
