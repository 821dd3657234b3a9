// The root filesystem of one run: the image's read-only layer tree under a fresh writable upper,
// with volumes mounted at their paths.
import { FsError, retryPending, RuntimeError, type FsDir, type FsFile, type FsNode } from '../core/index.ts';
import type { ImageRecord, ImageStore, LayerBytes } from '../images/index.ts';
import { buildLayerTree, createOverlay, MemTree, normalizeMountPath, type Space, withMounts } from '../vfs/index.ts';
import type { ByteSource } from '../core/index.ts';

/** Gives sync access to a stored layer's tar bytes; `diffId` lets a factory cache what it loads. */
export type ByteSourceFactory = (layer: LayerBytes, diffId: string) => Promise<ByteSource>;

/** The image's merged read-only tree: opens each layer's packed index, merges directories as they are reached. */
export async function openLayerTree(
  store: ImageStore,
  image: ImageRecord,
  byteSource: ByteSourceFactory,
): Promise<FsDir> {
  const layers = await Promise.all(
    image.layers.map(async (l) => ({
      index: await store.packedLayerIndex(l.diffId),
      source: await byteSource(await store.layerBytes(l), l.diffId),
    })),
  );
  return buildLayerTree(layers);
}

/** `space`: what the writable layer counts its bytes against (see Space). */
export function assembleRootfs(lower: FsDir, mounts: { path: string; dir: FsDir }[], space?: Space): FsDir {
  const upper = new MemTree(2n, space).createRoot();
  const root = createOverlay(lower, upper);
  // A mount point's missing parents are made in the writable layer, as docker does (counted there;
  // what cannot be made stays an empty read-only stand-in, see withMounts).
  for (const m of mounts) {
    // The path as withMounts reads it (which refuses '..' and the root itself).
    const parts = normalizeMountPath(m.path);
    let dir: FsDir = root;
    for (const name of parts.slice(0, -1)) {
      let next = dir.lookup(name);
      if (!next) {
        try {
          next = dir.createDir(name);
        } catch {
          break;
        }
      }
      if (next.kind !== 'dir') break;
      dir = next;
    }
  }
  return mounts.length
    ? withMounts(
        root,
        mounts.map((m) => ({ path: m.path.replace(/^\/+|\/+$/g, ''), dir: m.dir })),
      )
    : root;
}

/** Resolves an absolute path in a tree, following symlinks (bounded), for the host's own reads. */
export function lookupPath(root: FsDir, path: string): FsNode {
  const stack: FsDir[] = [root];
  const parts = path.split('/').filter((p) => p && p !== '.');
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i];
    const dir = stack[stack.length - 1];
    if (name === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const node = dir.lookup(name);
    if (!node) throw new FsError('ENOENT', `${path}: ${name} does not exist`);
    if (node.kind === 'symlink') {
      if (++hops > 40) throw new FsError('ELOOP', `${path}: too many symlinks`);
      if (node.target.startsWith('/')) stack.length = 1;
      parts.splice(i + 1, 0, ...node.target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    if (i === parts.length - 1) return node;
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', `${path}: ${name} is not a directory`);
    stack.push(node);
  }
  return stack[stack.length - 1];
}

/** A whole file of the image; a read of bytes still to be loaded (BytesPending) waits for them and goes on. */
export async function readWholeFile(root: FsDir, path: string): Promise<Uint8Array> {
  let node: FsNode;
  try {
    node = lookupPath(root, path);
  } catch (e) {
    if (e instanceof FsError) throw new RuntimeError('not-found', `${path} is not in the image (${e.code})`);
    throw e;
  }
  if (node.kind !== 'file') throw new RuntimeError('invalid-argument', `${path} in the image is not a regular file`);
  const file = node as FsFile;
  const out = new Uint8Array(Number(file.stat().size));
  let at = 0;
  while (at < out.length) {
    const n = await retryPending(() => file.read(at, out.subarray(at)));
    if (n === 0) break;
    at += n;
  }
  return out;
}
