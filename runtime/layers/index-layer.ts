// Indexes one uncompressed layer tar: each entry's normalised path, type and metadata, and where
// a file's bytes start, so a file can later be read lazily as (blob, offset, size).
// OCI whiteouts: `dir/.wh.name` becomes a 'whiteout' entry for `dir/name`, `dir/.wh..wh..opq` an
// 'opaque' entry for `dir`.
import { RuntimeError } from '../core/index.ts';
import { normalizeTarPath } from './tar-path.ts';
import { readTar } from './tar-reader.ts';
import type { LayerEntry, LayerIndex } from '../core/index.ts';

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

export interface IndexLayerOptions {
  /** Refuse ('resource-exhausted') a layer whose uncompressed tar is longer than this. */
  maxSize?: number;
  /** Refuse ('resource-exhausted') a layer with more entries than this. Default MAX_LAYER_ENTRIES. */
  maxEntries?: number;
}

/**
 * The entries one layer may have. An index holds each in memory while it is made (some 700 bytes):
 * two million empty entries, 5.5 MB of gzip, took 1.6 GiB. A whole Linux distribution has a few
 * hundred thousand files.
 */
export const MAX_LAYER_ENTRIES = 1 << 20;

/**
 * Reads the whole tar. Refuses ('invalid-argument') a name escaping the root with '..', and a
 * hardlink whose target is not an earlier file, symlink or hardlink of this same layer.
 * Sparse files are refused ('unimplemented'); char/block/fifo and unknown entry types are skipped, as is an entry for the root itself.
 * An opaque marker at the root is an 'opaque' entry of path '' (the only entry with that path).
 */
export async function indexLayer(
  tar: ReadableStream<Uint8Array>,
  options: IndexLayerOptions = {},
): Promise<LayerIndex> {
  const reader = readTar(tar, { maxSize: options.maxSize });
  const entries: LayerEntry[] = [];
  const maxEntries = options.maxEntries ?? MAX_LAYER_ENTRIES;
  let count = 0;
  // Latest entry per path in this layer, to check hardlink targets.
  const seen = new Map<string, LayerEntry['type']>();
  for await (const t of reader) {
    if (++count > maxEntries)
      throw new RuntimeError('resource-exhausted', `the layer has more than ${maxEntries} entries`);
    if (t.type === 'sparse') {
      throw new RuntimeError(
        'unimplemented',
        `tar entry "${t.path}" at offset ${t.headerOffset} is a sparse or multi-volume file, which berth cannot read`,
      );
    }
    if (t.type !== 'file' && t.type !== 'dir' && t.type !== 'symlink' && t.type !== 'hardlink') continue;
    const path = normalizeTarPath(t.path);
    if (path === '') continue;
    const slash = path.lastIndexOf('/');
    const base = path.slice(slash + 1);
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const common = { mode: t.mode, uid: t.uid, gid: t.gid, mtime: t.mtime, size: 0, offset: t.offset };
    if (base === OPAQUE) {
      // At the root too ('' names it): everything the layers below put anywhere is hidden.
      entries.push({ ...common, path: dir, type: 'opaque' });
      continue;
    }
    if (base.startsWith(WH)) {
      const hidden = base.slice(WH.length);
      if (hidden === '' || hidden === '.' || hidden === '..') {
        throw new RuntimeError(
          'invalid-argument',
          `tar entry "${t.path}" at offset ${t.headerOffset} is a whiteout of nothing`,
        );
      }
      entries.push({ ...common, path: dir ? `${dir}/${hidden}` : hidden, type: 'whiteout' });
      continue;
    }
    const entry: LayerEntry = { ...common, path, type: t.type };
    if (t.type === 'file') entry.size = t.size;
    else if (t.type === 'symlink') entry.linkname = t.linkname;
    else if (t.type === 'hardlink') {
      const target = normalizeTarPath(t.linkname, 'hardlink target');
      const kind = seen.get(target);
      if (kind === undefined || kind === 'dir') {
        throw new RuntimeError(
          'invalid-argument',
          `tar entry "${t.path}" at offset ${t.headerOffset} is a hardlink to "${t.linkname}", which is not an earlier file of the layer`,
        );
      }
      entry.linkname = target;
    }
    seen.set(path, t.type);
    entries.push(entry);
  }
  await reader.drain();
  return { entries, size: reader.position };
}
