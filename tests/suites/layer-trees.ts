// Trees to compare: a directory on disk (what a real tool extracted) and berth's layer tree (what
// berth unpacked), each as path -> "kind mode content-hash|target".
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryContentStore, MemoryRecords } from '../../runtime/content/index.ts';
import { sha256, type Digest, type FsDir, type FsFile, type FsSymlink } from '../../runtime/core/index.ts';
import { ImageStore } from '../../runtime/images/image-store.ts';
import { unpackLayer } from '../../runtime/images/unpack-layer.ts';
import { decodeSeekIndex, seekSpans } from '../../runtime/layers/index.ts';
import { buildLayerTree, type LayerTreeLayer } from '../../runtime/vfs/index.ts';
import { bufferSource } from './layer-helpers.ts';

/** path -> "kind mode content-hash|target", for everything under `root` (root itself excluded). */
export function walkDisk(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = lstatSync(p);
      const mode = (s.mode & 0o7777).toString(8);
      if (s.isSymbolicLink()) out.set(r, `symlink ${mode} -> ${readlinkSync(p)}`);
      else if (s.isDirectory()) {
        out.set(r, `dir ${mode}`);
        visit(p, r);
      } else out.set(r, `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  visit(root, '');
  return out;
}

export function walkTree(root: FsDir): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: FsDir, rel: string) => {
    for (const [name, node] of [...dir.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const r = rel ? `${rel}/${name}` : name;
      const mode = (node.stat().mode & 0o7777).toString(8);
      if (node.kind === 'symlink') out.set(r, `symlink ${mode} -> ${(node as FsSymlink).target}`);
      else if (node.kind === 'dir') {
        out.set(r, `dir ${mode}`);
        visit(node as FsDir, r);
      } else
        out.set(
          r,
          `file ${mode} ${createHash('sha256')
            .update(readAll(node as FsFile))
            .digest('hex')}`,
        );
    }
  };
  visit(root, '');
  return out;
}

function readAll(f: FsFile): Uint8Array {
  const out = new Uint8Array(Number(f.stat().size));
  let at = 0;
  while (at < out.length) at += f.read(at, out.subarray(at));
  return out;
}

/** Unpacks `layers` (compressed blobs + diff_ids) through berth's unpackLayer and builds the tree. */
export async function berthTree(layers: { blob: Uint8Array; mediaType: string; diffId: Digest }[]): Promise<FsDir> {
  const content = new MemoryContentStore();
  const store = new ImageStore({ content, records: new MemoryRecords() });
  const built: LayerTreeLayer[] = [];
  for (const l of layers) {
    const digest = await sha256(l.blob);
    await content.put({ digest }, l.blob);
    const index = await unpackLayer(store, { digest, mediaType: l.mediaType }, l.diffId);
    // Through the seek index (a memory store keeps no tars of gzip layers), span by span.
    const bytes = await store.layerBytes({ digest, diffId: l.diffId });
    const blob = new Uint8Array(await bytes.blob.arrayBuffer());
    const tar = bytes.seek ? seekSpans(decodeSeekIndex(bytes.seek), blob) : blob;
    built.push({ index, source: bufferSource(tar) });
  }
  return buildLayerTree(built);
}
