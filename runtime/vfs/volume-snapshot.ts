// A volume (a MemDir tree) as plain data that survives structured clone (IndexedDB, postMessage),
// and back. Entries list parents before children; paths are relative and '/'-separated.
// Hard links are not preserved: each path gets its own copy of the bytes.
import { FsError } from '../core/index.ts';
import { MemDir, MemFile, MemSymlink, MemTree, type MemNode } from './mem-tree.ts';

export interface VolumeSnapshotEntry {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  /** Nanoseconds since the epoch, as a decimal string. */
  mtim: string;
  data?: Uint8Array;
  target?: string;
}

export interface VolumeSnapshot {
  entries: VolumeSnapshotEntry[];
}

/** Bytes of file data a snapshot holds. */
export function snapshotBytes(snapshot: VolumeSnapshot): number {
  return snapshot.entries.reduce((n, e) => n + (e.data?.length ?? 0), 0);
}

export function snapshotDir(dir: MemDir): VolumeSnapshot {
  const entries: VolumeSnapshotEntry[] = [];
  const walk = (d: MemDir, prefix: string) => {
    for (const [name, node] of d.entries()) {
      const path = prefix + name;
      const base = { path, mode: node.mode, mtim: node.mtim.toString() };
      if (node.kind === 'file') entries.push({ ...base, kind: 'file', data: node.contents().slice() });
      else if (node.kind === 'symlink') entries.push({ ...base, kind: 'symlink', target: node.target });
      else {
        entries.push({ ...base, kind: 'dir' });
        walk(node, `${path}/`);
      }
    }
  };
  walk(dir, '');
  return { entries };
}

export function restoreDir(snapshot: VolumeSnapshot, tree: MemTree = new MemTree()): MemDir {
  const root = tree.createRoot();
  const dirs = new Map<string, MemDir>([['', root]]);
  const made: [MemNode, bigint][] = [];
  for (const e of snapshot.entries) {
    const slash = e.path.lastIndexOf('/');
    const parentPath = slash < 0 ? '' : e.path.slice(0, slash);
    const name = e.path.slice(slash + 1);
    const parent = dirs.get(parentPath);
    if (!parent || name === '' || name === '.' || name === '..') {
      throw new FsError('EINVAL', `volume snapshot entry "${e.path}" has no parent directory before it`);
    }
    const mtim = BigInt(e.mtim);
    let node: MemNode;
    if (e.kind === 'file') node = new MemFile(tree, (e.data ?? new Uint8Array(0)).slice(), e.mode, mtim);
    else if (e.kind === 'symlink') node = new MemSymlink(tree, e.target ?? '', mtim);
    else {
      node = new MemDir(tree, e.mode, mtim);
      dirs.set(e.path, node);
    }
    parent.attach(name, node);
    made.push([node, mtim]);
  }
  // Attaching a child touched its parent's times: put the recorded ones back.
  for (const [node, mtim] of made) node.mtim = mtim;
  return root;
}
