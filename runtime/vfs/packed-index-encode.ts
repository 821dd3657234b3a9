// Packs a LayerIndex into the form packed-index.ts reads (the layout is described there). Runs once
// per layer at pull time, in O(entries). It also resolves what the tree builder would otherwise
// need every entry for: each directory's events, and each hardlink's target entry. A hardlink
// whose target is not an earlier file or symlink of this same layer (at that point of the tar) is
// refused with RuntimeError 'invalid-argument', as indexLayer refuses it.
import { RuntimeError } from '../core/index.ts';
import { compareBytes, PackedLayout, PackedTypes } from './packed-index.ts';
import type { LayerEntry, LayerIndex } from '../core/index.ts';

const encoder = new TextEncoder();
const NONE = PackedLayout.none;

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function _isMarker(t: LayerEntry['type']): boolean {
  return t === 'whiteout' || t === 'opaque';
}

/** The bytes of directory paths an index may hold: this many per byte of its tar, plus the floor. */
const MAX_DIR_BYTES_PER_TAR_BYTE = 16;
const MAX_DIR_BYTES_FLOOR = 16 * 1024 * 1024;

export function encodeLayerIndex(index: LayerIndex): Uint8Array {
  const entries = index.entries;
  // Strings, deduplicated (names repeat a lot: "index.js", "README").
  const strings: Uint8Array[] = [];
  const stringAt = new Map<string, [number, number]>();
  let stringBytes = 0;
  const str = (s: string): [number, number] => {
    let r = stringAt.get(s);
    if (!r) {
      const b = encoder.encode(s);
      r = [stringBytes, b.length];
      strings.push(b);
      stringBytes += b.length;
      stringAt.set(s, r);
    }
    return r;
  };

  // Directories: every parent of an entry and their ancestors, the root included. Each keeps its
  // whole path, so their bytes are bounded by the tar's (with room for small tars): distinct deep
  // paths would otherwise make an index far larger than its layer.
  const dirSet = new Set<string>(['']);
  const dirOfEntry: string[] = [];
  const maxDirBytes = MAX_DIR_BYTES_PER_TAR_BYTE * index.size + MAX_DIR_BYTES_FLOOR;
  let dirBytes = 0;
  for (const e of entries) {
    // '' is the root, which only an opaque marker names (everything below it is hidden).
    const root = e.path === '' && e.type === 'opaque';
    if (typeof e.path !== 'string' || (e.path === '' && !root) || e.path.startsWith('/') || e.path.endsWith('/')) {
      throw new RuntimeError('invalid-argument', `layer index entry "${e.path}" is not a normalised relative path`);
    }
    if (!PackedTypes.includes(e.type))
      throw new RuntimeError('invalid-argument', `layer index entry "${e.path}" has an unknown type "${e.type}"`);
    const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
    if (
      !whole(e.mode) ||
      !whole(e.size) ||
      !whole(e.offset) ||
      !Number.isFinite(e.mtime) ||
      (e.type === 'file' && e.offset + e.size > index.size)
    ) {
      throw new RuntimeError(
        'invalid-argument',
        `layer index entry "${e.path}" has a mode, time, size or offset that is not valid for its tar`,
      );
    }
    const dir = e.type === 'opaque' ? e.path : parentOf(e.path);
    dirOfEntry.push(dir);
    for (let d = dir; !dirSet.has(d); d = parentOf(d)) {
      dirSet.add(d);
      dirBytes += d.length;
      if (dirBytes > maxDirBytes)
        throw new RuntimeError(
          'resource-exhausted',
          `the layer's directory paths are over ${maxDirBytes} bytes together (its tar is ${index.size})`,
        );
    }
  }
  const dirList = [...dirSet]
    .map((p) => ({ path: p, bytes: encoder.encode(p) }))
    .sort((a, b) => compareBytes(a.bytes, b.bytes));
  const dirIndex = new Map<string, number>();
  dirList.forEach((d, i) => dirIndex.set(d.path, i));
  // Each directory's parent, so an entry's ancestors are walked by number, not by path strings.
  const dirParent = dirList.map((d) => (d.path === '' ? NONE : dirIndex.get(parentOf(d.path))!));
  const events: [number, number][][] = dirList.map(() => []);
  const opaque = new Array<number>(dirList.length).fill(NONE);

  // Hardlinks: the latest entry at each path (and the latest non-directory), to resolve targets.
  const latest = new Map<string, number>();
  const lastNonDir = new Map<string, number>();
  const link = new Array<number>(entries.length).fill(NONE);
  const groups = new Map<number, number[]>();
  // Directories this layer has made sure are directories (no "child must be a directory" event
  // needed again until the path, or one above it, is replaced by something else): made sure at
  // entry sureAt[d], and last replaced by a non-directory at replacedAt[d]. A directory is sure while
  // it was made so after its own and its ancestors' last replacement. (A set of paths, emptied of a
  // replaced path's subtree by a scan of the whole set, was quadratic: 40,000 directories each
  // replaced by a file took 8.6 s.)
  const sureAt = new Array<number>(dirList.length).fill(-1);
  const replacedAt = new Array<number>(dirList.length).fill(-1);
  const chain: number[] = [];

  entries.forEach((e, i) => {
    const dir = dirOfEntry[i];
    const dirAt = dirIndex.get(dir)!;
    if (e.type === 'opaque') {
      opaque[dirAt] = i;
      return;
    }
    if (e.type !== 'whiteout') {
      // Each ancestor of the entry must be a directory when it is placed: record that in the
      // ancestor's parent, once per stretch in which it is not replaced.
      chain.length = 0;
      for (let d = dirAt; d !== 0; d = dirParent[d]) chain.push(d);
      let replaced = -1;
      let parent = 0;
      for (let k = chain.length - 1; k >= 0; k--) {
        const child = chain[k];
        replaced = Math.max(replaced, replacedAt[child]);
        if (sureAt[child] <= replaced) {
          events[parent].push([i, child]);
          sureAt[child] = i;
        }
        parent = child;
      }
    }
    events[dirAt].push([i, NONE]);
    if (e.type === 'whiteout') return;

    if (e.type === 'hardlink') {
      const name = e.linkname;
      const j = name === undefined ? undefined : latest.get(name);
      const bad = () =>
        new RuntimeError(
          'invalid-argument',
          `layer index entry "${e.path}": hardlink target "${name}" is not an earlier file of the layer`,
        );
      if (name === undefined || j === undefined || entries[j].type === 'dir') throw bad();
      // Replaced ancestors (a non-directory placed over one after the target) lose the target.
      for (let a = parentOf(name); a !== ''; a = parentOf(a)) if ((lastNonDir.get(a) ?? -1) > j) throw bad();
      const target = entries[j].type === 'hardlink' ? link[j] : j;
      link[i] = target;
      let g = groups.get(target);
      if (!g) groups.set(target, (g = [target]));
      g.push(i);
    }
    const self = dirIndex.get(e.path);
    if (e.type === 'dir') {
      if (self !== undefined) sureAt[self] = i;
    } else {
      lastNonDir.set(e.path, i);
      if (self !== undefined) replacedAt[self] = i;
    }
    latest.set(e.path, i);
  });

  // Group table: [count, members...] per target; a target's link field points at its count word.
  const groupWords: number[] = [];
  for (const [target, members] of groups) {
    link[target] = groupWords.length;
    groupWords.push(members.length, ...members);
  }

  const L = PackedLayout;
  const eventCount = events.reduce((n, ev) => n + ev.length, 0);
  // Strings first, so their sizes are known.
  const names = entries.map((e) => str(e.type === 'opaque' ? '' : e.path.slice(e.path.lastIndexOf('/') + 1)));
  const links = entries.map((e) => (e.linkname === undefined ? undefined : str(e.linkname)));
  const dirStrings = dirList.map((d) => str(d.path));
  const total =
    L.header +
    entries.length * L.entry +
    dirList.length * L.dir +
    eventCount * L.event +
    groupWords.length * 4 +
    stringBytes;
  if (total > 0xffff_ffff)
    throw new RuntimeError('resource-exhausted', `the layer index is too large to pack (${total} bytes)`);

  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, L.magic, true);
  v.setUint32(4, L.version, true);
  v.setFloat64(8, index.size, true);
  v.setUint32(16, entries.length, true);
  v.setUint32(20, dirList.length, true);
  v.setUint32(24, eventCount, true);
  v.setUint32(28, groupWords.length, true);
  v.setUint32(32, stringBytes, true);
  v.setUint32(36, total, true);
  let at = L.header;
  entries.forEach((e, i) => {
    v.setUint8(at, PackedTypes.indexOf(e.type));
    v.setUint8(at + 1, links[i] ? 1 : 0);
    v.setUint32(at + 4, dirIndex.get(dirOfEntry[i])!, true);
    v.setUint32(at + 8, names[i][0], true);
    v.setUint32(at + 12, names[i][1], true);
    v.setUint32(at + 16, link[i], true);
    v.setUint32(at + 20, links[i]?.[0] ?? 0, true);
    v.setUint32(at + 24, links[i]?.[1] ?? 0, true);
    v.setFloat64(at + 32, e.mode, true);
    v.setFloat64(at + 40, e.uid, true);
    v.setFloat64(at + 48, e.gid, true);
    v.setFloat64(at + 56, e.mtime, true);
    v.setFloat64(at + 64, e.size, true);
    v.setFloat64(at + 72, e.offset, true);
    at += L.entry;
  });
  let firstEvent = 0;
  dirList.forEach((_, d) => {
    v.setUint32(at, dirStrings[d][0], true);
    v.setUint32(at + 4, dirStrings[d][1], true);
    v.setUint32(at + 8, firstEvent, true);
    v.setUint32(at + 12, events[d].length, true);
    v.setUint32(at + 16, opaque[d], true);
    firstEvent += events[d].length;
    at += L.dir;
  });
  for (const ev of events) {
    for (const [entry, child] of ev) {
      v.setUint32(at, entry, true);
      v.setUint32(at + 4, child, true);
      at += L.event;
    }
  }
  for (const w of groupWords) {
    v.setUint32(at, w, true);
    at += 4;
  }
  for (const s of strings) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}
