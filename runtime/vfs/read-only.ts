// A read-only view of a directory tree (a volume or a host directory mounted with `:ro`): every node
// reached through it answers as before, and every change (writes, truncation, times, creating,
// linking, removing, renaming) fails with EROFS, however deep and through whatever it was reached.
import { FsError, type FsDir, type FsFile, type FsNode, type FsOpenFile, type FsSymlink } from '../core/index.ts';

const refuse = (): never => {
  throw new FsError('EROFS', 'mounted read-only');
};

function readOnlyFile(file: FsFile): FsFile {
  return {
    kind: 'file',
    stat: () => file.stat(),
    setTimes: refuse,
    read: (position, into) => file.read(position, into),
    write: refuse,
    truncate: refuse,
    ...(file.open
      ? {
          open: (): FsOpenFile => {
            const opened = file.open!(false);
            return { ...readOnlyFile(opened), close: () => opened.close() };
          },
        }
      : {}),
  };
}

function readOnlySymlink(link: FsSymlink): FsSymlink {
  return { kind: 'symlink', target: link.target, stat: () => link.stat(), setTimes: refuse };
}

/** The same node, read-only (directories wrap what they hand out, so the whole subtree is). */
export function readOnlyNode(node: FsNode): FsNode {
  if (node.kind === 'dir') return readOnlyDir(node);
  if (node.kind === 'file') return readOnlyFile(node);
  return readOnlySymlink(node);
}

export function readOnlyDir(dir: FsDir): FsDir {
  return {
    kind: 'dir',
    stat: () => dir.stat(),
    setTimes: refuse,
    lookup: (name) => {
      const n = dir.lookup(name);
      return n && readOnlyNode(n);
    },
    *entries() {
      for (const [name, n] of dir.entries()) yield [name, readOnlyNode(n)];
    },
    createFile: refuse,
    createDir: refuse,
    createSymlink: refuse,
    link: refuse,
    unlink: refuse,
    rmdir: refuse,
    rename: refuse,
  };
}
