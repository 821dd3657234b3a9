// The packed form of a LayerIndex: one Uint8Array per layer, stored at pull time, that opens in
// O(1) (a header check) and is decoded one directory at a time, so a request that touches a few
// paths of a 20 000-entry layer decodes a few directories. One typed array is also what a record
// store copies fastest (v8 serialize / IndexedDB structured clone: one memcpy, not 20 000 objects).
//
// Layout (little endian; written by packed-index-encode.ts):
//   header   HEADER bytes: magic, version, tar size, the section counts, the total length
//   entries  entryCount x ENTRY bytes, in tar order (an entry's index is its "seq")
//   dirs     dirCount x DIR bytes, sorted by the UTF-8 bytes of the directory's path; dir 0 is ''
//   events   eventCount x EVENT bytes: per directory, in tar order, what happens to its children:
//            a direct entry (entry, NONE), or "child must be a directory here" (entry, child dir)
//            emitted before the first entry of this layer below that child (the entry named)
//   groups   u32 words: per hardlink target, [count, member entries...] (the target first)
//   strings  UTF-8: entry names (the last path component; '' for opaque), link names, dir paths
// Words: an entry's "dir" is the directory it sits in (an opaque marker's: the directory it marks).
import { RuntimeError } from '../core/index.ts';
import type { LayerEntry, LayerIndex } from '../core/index.ts';

export const PackedLayout = {
  magic: 0x5849_4c42, // 'BLIX'
  version: 1,
  header: 48,
  entry: 80,
  dir: 24,
  event: 8,
  none: 0xffff_ffff,
} as const;

/** Entry types in the order of their numeric codes. */
export const PackedTypes: readonly LayerEntry['type'][] = ['file', 'dir', 'symlink', 'hardlink', 'whiteout', 'opaque'];

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function corrupt(why: string): never {
  throw new RuntimeError('data-loss', `the packed layer index is corrupt: ${why}; pull the image again`);
}

/** Byte order of UTF-8, which is code point order: the order of the dir table. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A read-only view over one packed index; every accessor checks its bounds ('data-loss'). */
export class PackedLayerIndex {
  readonly size: number;
  readonly entryCount: number;
  readonly dirCount: number;
  private readonly view: DataView;
  private readonly eventCount: number;
  private readonly groupWords: number;
  private readonly entriesAt: number;
  private readonly dirsAt: number;
  private readonly eventsAt: number;
  private readonly groupsAt: number;
  private readonly stringsAt: number;
  private readonly stringBytes: number;
  private readonly dirPaths = new Map<number, string>();

  private constructor(readonly bytes: Uint8Array) {
    const L = PackedLayout;
    if (bytes.length < L.header) corrupt(`it is ${bytes.length} bytes long, shorter than its header`);
    const v = (this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (v.getUint32(0, true) !== L.magic) corrupt('it does not start with the packed index magic');
    if (v.getUint32(4, true) !== L.version) corrupt(`its version ${v.getUint32(4, true)} is not ${L.version}`);
    this.size = v.getFloat64(8, true);
    this.entryCount = v.getUint32(16, true);
    this.dirCount = v.getUint32(20, true);
    this.eventCount = v.getUint32(24, true);
    this.groupWords = v.getUint32(28, true);
    this.stringBytes = v.getUint32(32, true);
    const total = v.getUint32(36, true);
    this.entriesAt = L.header;
    this.dirsAt = this.entriesAt + this.entryCount * L.entry;
    this.eventsAt = this.dirsAt + this.dirCount * L.dir;
    this.groupsAt = this.eventsAt + this.eventCount * L.event;
    this.stringsAt = this.groupsAt + this.groupWords * 4;
    const end = this.stringsAt + this.stringBytes;
    if (total !== bytes.length || end !== bytes.length)
      corrupt(`it is ${bytes.length} bytes long, its header says ${total} and its sections ${end}`);
    if (!Number.isSafeInteger(this.size) || this.size < 0) corrupt('its tar size is not a byte count');
    if (this.dirCount < 1 || this.dirPathLength(0) !== 0) corrupt('its first directory is not the root');
  }

  /** Checks the header (O(1)); the rest is checked as it is read. */
  static open(bytes: Uint8Array): PackedLayerIndex {
    return new PackedLayerIndex(bytes);
  }

  private entry(i: number): number {
    if (!(i >= 0 && i < this.entryCount)) corrupt(`entry ${i} is out of range (${this.entryCount} entries)`);
    return this.entriesAt + i * PackedLayout.entry;
  }
  private dirAt(d: number): number {
    if (!(d >= 0 && d < this.dirCount)) corrupt(`directory ${d} is out of range (${this.dirCount} directories)`);
    return this.dirsAt + d * PackedLayout.dir;
  }
  private stringBytesAt(off: number, len: number): Uint8Array {
    if (off + len > this.stringBytes)
      corrupt(`a string at ${off}+${len} runs past the string table (${this.stringBytes} bytes)`);
    const at = this.bytes.byteOffset + this.stringsAt + off;
    return new Uint8Array(this.bytes.buffer, at, len);
  }
  private string(off: number, len: number): string {
    const b = this.stringBytesAt(off, len);
    try {
      return decoder.decode(b);
    } catch {
      corrupt(`a string at ${off} is not UTF-8`);
    }
  }

  type(i: number): LayerEntry['type'] {
    const t = PackedTypes[this.view.getUint8(this.entry(i))];
    if (!t) corrupt(`entry ${i} has an unknown type ${this.view.getUint8(this.entry(i))}`);
    return t;
  }
  /** The directory entry `i` sits in (an opaque marker: the directory it marks). */
  dirOf(i: number): number {
    const d = this.view.getUint32(this.entry(i) + 4, true);
    this.dirAt(d);
    return d;
  }
  /** The last path component ('' for an opaque marker). */
  name(i: number): string {
    const at = this.entry(i);
    return this.string(this.view.getUint32(at + 8, true), this.view.getUint32(at + 12, true));
  }
  /** A hardlink: its target entry (resolved to a file or symlink). A file or symlink: its hardlink group, or NONE. */
  link(i: number): number {
    return this.view.getUint32(this.entry(i) + 16, true);
  }
  linkname(i: number): string | undefined {
    const at = this.entry(i);
    if (this.view.getUint8(at + 1) === 0) return undefined;
    return this.string(this.view.getUint32(at + 20, true), this.view.getUint32(at + 24, true));
  }
  mode(i: number): number {
    return this.number(i, 32, 'mode');
  }
  mtime(i: number): number {
    const t = this.view.getFloat64(this.entry(i) + 56, true);
    if (!Number.isFinite(t)) corrupt(`entry ${i} has an mtime of ${t}`);
    return t;
  }
  /** A file's data size; checked to lie inside the tar. */
  fileSize(i: number): number {
    const size = this.number(i, 64, 'size');
    if (this.type(i) === 'file' && this.number(i, 72, 'offset') + size > this.size)
      corrupt(`entry ${i} ends past the end of its tar`);
    return size;
  }
  offset(i: number): number {
    return this.number(i, 72, 'offset');
  }
  private number(i: number, at: number, what: string): number {
    const n = this.view.getFloat64(this.entry(i) + at, true);
    if (!Number.isSafeInteger(n) || n < 0) corrupt(`entry ${i} has a ${what} of ${n}`);
    return n;
  }
  path(i: number): string {
    const dir = this.dirPath(this.dirOf(i));
    if (this.type(i) === 'opaque') return dir;
    const name = this.name(i);
    return dir ? `${dir}/${name}` : name;
  }
  entryAt(i: number): LayerEntry {
    const at = this.entry(i);
    const v = this.view;
    const e: LayerEntry = {
      path: this.path(i),
      type: this.type(i),
      mode: this.mode(i),
      uid: v.getFloat64(at + 40, true),
      gid: v.getFloat64(at + 48, true),
      mtime: this.mtime(i),
      size: this.fileSize(i),
      offset: this.offset(i),
    };
    const link = this.linkname(i);
    if (link !== undefined) e.linkname = link;
    return e;
  }

  private dirPathLength(d: number): number {
    return this.view.getUint32(this.dirAt(d) + 4, true);
  }
  dirPath(d: number): string {
    let p = this.dirPaths.get(d);
    if (p === undefined) {
      const at = this.dirAt(d);
      p = this.string(this.view.getUint32(at, true), this.view.getUint32(at + 4, true));
      this.dirPaths.set(d, p);
    }
    return p;
  }
  /** The directory whose path is `path` ('' is the root), or -1: a binary search, no decoding. */
  findDir(path: string | Uint8Array): number {
    const want = typeof path === 'string' ? encoder.encode(path) : path;
    let lo = 0;
    let hi = this.dirCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.dirAt(mid);
      const c = compareBytes(
        this.stringBytesAt(this.view.getUint32(at, true), this.view.getUint32(at + 4, true)),
        want,
      );
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
  /** The opaque marker of directory `d` in this layer, or NONE. */
  opaque(d: number): number {
    return this.view.getUint32(this.dirAt(d) + 16, true);
  }
  /** Directory `d`'s events in tar order: [entry, child dir or NONE]. */
  *events(d: number): Generator<[number, number]> {
    const at = this.dirAt(d);
    const first = this.view.getUint32(at + 8, true);
    const count = this.view.getUint32(at + 12, true);
    if (first + count > this.eventCount) corrupt(`directory ${d} has events past the event table`);
    for (let k = first; k < first + count; k++) {
      const e = this.eventsAt + k * PackedLayout.event;
      yield [this.view.getUint32(e, true), this.view.getUint32(e + 4, true)];
    }
  }
  /** The entries sharing one file through hardlinks: the target first. */
  group(g: number): number[] {
    if (!(g >= 0 && g < this.groupWords)) corrupt(`hardlink group ${g} is out of range`);
    const count = this.view.getUint32(this.groupsAt + g * 4, true);
    if (g + 1 + count > this.groupWords) corrupt(`hardlink group ${g} runs past the group table`);
    const out: number[] = [];
    for (let k = 1; k <= count; k++) out.push(this.view.getUint32(this.groupsAt + (g + k) * 4, true));
    return out;
  }

  /** Every entry, in tar order: the LayerIndex this was packed from. */
  toLayerIndex(): LayerIndex {
    const entries: LayerEntry[] = [];
    for (let i = 0; i < this.entryCount; i++) entries.push(this.entryAt(i));
    return { entries, size: this.size };
  }
}

/** The LayerIndex a packed index holds ('data-loss' if it is corrupt). */
export function decodeLayerIndex(bytes: Uint8Array): LayerIndex {
  return PackedLayerIndex.open(bytes).toLayerIndex();
}
