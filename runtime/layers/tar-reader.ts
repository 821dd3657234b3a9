// A streaming tar reader: ustar, pax ('x' per entry; 'g' global headers are ignored) and GNU
// long names ('L') and long links ('K'). Words: the "header offset" is where an entry's 512-byte
// header starts and the "offset" where its data starts, both in the uncompressed tar.
import { RuntimeError } from '../core/index.ts';
import { ByteReader } from './byte-reader.ts';

const BLOCK = 512;

/** 'sparse' covers GNU sparse ('S'), multi-volume ('M') and pax GNU.sparse.* entries, which berth cannot read. */
export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'dir' | 'char' | 'block' | 'fifo' | 'sparse' | 'other';

export interface TarEntry {
  /** The name as stored (after pax / GNU long-name overrides), not normalised. */
  path: string;
  type: TarEntryType;
  /** The raw typeflag character ('0', '5', 'S', ...). */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  /** Milliseconds since the epoch. */
  mtime: number;
  size: number;
  /** Symlink or hardlink target as stored ('' if none). */
  linkname: string;
  uname: string;
  gname: string;
  headerOffset: number;
  /** Where the data starts in the uncompressed tar. */
  offset: number;
  /** Reads the entry's data; only before the iteration moves on (unread data is skipped). */
  bytes(): Promise<Uint8Array>;
}

export interface TarReader extends AsyncIterable<TarEntry> {
  /** Bytes of the tar consumed so far; after `drain()`, its whole length. */
  readonly position: number;
  /** Reads (and counts) whatever follows the end-of-archive blocks. */
  drain(): Promise<number>;
}

export interface ReadTarOptions {
  /** Refuse ('resource-exhausted') a tar longer than this many bytes. */
  maxSize?: number;
}

const utf8 = new TextDecoder('utf-8');

function text(block: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && block[end] !== 0) end++;
  return utf8.decode(block.subarray(start, end));
}

/** Octal (NUL/space terminated) or base-256 (high bit of the first byte set). */
function num(block: Uint8Array, start: number, len: number, field: string, where: () => string): number {
  const first = block[start];
  if (first & 0x80) {
    const negative = first === 0xff;
    let v = 0;
    for (let i = start; i < start + len; i++) {
      let b = i === start ? first & 0x7f : block[i];
      if (negative) b = (i === start ? 0x7f : 0xff) - b;
      v = v * 256 + b;
    }
    return negative ? -(v + 1) : v;
  }
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = block[i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  s = s.trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s))
    throw new RuntimeError('data-loss', `${where()}: the ${field} field "${s}" is not an octal number`);
  return parseInt(s, 8);
}

function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function checksumOk(b: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(data: Uint8Array, where: () => string): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    let sp = at;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = parseInt(utf8.decode(data.subarray(at, sp)), 10);
    if (!(len > 0) || at + len > data.length || data[at + len - 1] !== 0x0a) {
      if (data[at] === 0) break; // NUL padding after the records
      throw new RuntimeError('data-loss', `${where()}: a pax extended header record is malformed`);
    }
    const rec = utf8.decode(data.subarray(sp + 1, at + len - 1));
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

function typeOf(flag: string, name: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
    case '':
      // Old (v7) archives mark directories by a trailing slash only.
      return name.endsWith('/') ? 'dir' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
    case 'D': // GNU dumpdir: a directory whose data lists its contents
      return 'dir';
    case 'S':
    case 'M':
      return 'sparse';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** Reads a tar stream entry by entry. Errors are RuntimeError 'data-loss' naming the entry and offset. */
/** What the extended headers ('x', 'g', 'L', 'K') before one entry may hold together. */
export const MAX_EXTENDED_HEADERS = 1024 * 1024;

export function readTar(stream: ReadableStream<Uint8Array>, options: ReadTarOptions = {}): TarReader {
  const r = new ByteReader(stream, options.maxSize);
  let finished = false;

  async function* entries(): AsyncGenerator<TarEntry> {
    let pax = new Map<string, string>();
    /** Bytes of extended headers read for the entry to come. */
    let extended = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let lastName = '(start of archive)';
    try {
      for (;;) {
        const headerOffset = r.position;
        const where = () => `tar entry after "${lastName}" at offset ${headerOffset}`;
        const h = await r.read(BLOCK);
        if (h.length === 0) {
          // A cut at a block boundary would otherwise pass for a shorter archive.
          throw new RuntimeError(
            'data-loss',
            `${where()}: the archive ends without its end-of-archive blocks (truncated?)`,
          );
        }
        if (h.length < BLOCK)
          throw new RuntimeError('data-loss', `${where()}: the archive is truncated inside a header`);
        if (isZeroBlock(h)) break;
        const stored = num(h, 148, 8, 'checksum', where);
        if (!checksumOk(h, stored)) {
          throw new RuntimeError(
            'data-loss',
            `${where()}: the header checksum is wrong (the archive is corrupt or not a tar)`,
          );
        }
        const flag = String.fromCharCode(h[156]);
        const magic = text(h, 257, 6);
        const ustar = magic === 'ustar' && h[262] === 0; // POSIX ustar (GNU writes "ustar  ")
        let name = text(h, 0, 100);
        if (ustar) {
          const prefix = text(h, 345, 155);
          if (prefix) name = `${prefix}/${name}`;
        }
        let size = num(h, 124, 12, 'size', where);
        if (size < 0) throw new RuntimeError('data-loss', `${where()}: negative size`);
        const dataOffset = r.position;

        if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
          // Read whole, so held to a size (as Go's archive/tar does): a 3.75 GiB pax header of zeros
          // (3.8 MiB gzipped) took 7.6 GiB before the layer cap stopped it.
          extended += size;
          if (extended > MAX_EXTENDED_HEADERS)
            throw new RuntimeError(
              'resource-exhausted',
              `${where()}: its extended headers (pax, GNU long names) are over ${MAX_EXTENDED_HEADERS} bytes`,
            );
          const data = await r.read(size);
          if (data.length < size)
            throw new RuntimeError('data-loss', `${where()}: the archive is truncated inside an extended header`);
          const skipped = await r.skip(padded(size) - size);
          if (skipped < padded(size) - size)
            throw new RuntimeError('data-loss', `${where()}: the archive is truncated inside an extended header`);
          if (flag === 'x') for (const [k, v] of parsePax(data, where)) pax.set(k, v);
          else if (flag === 'L') longName = text(data, 0, data.length);
          else if (flag === 'K') longLink = text(data, 0, data.length);
          // 'g' (global) headers are ignored on purpose.
          continue;
        }

        let linkname = text(h, 157, 100);
        let mtime = num(h, 136, 12, 'mtime', where) * 1000;
        let uid = num(h, 108, 8, 'uid', where);
        let gid = num(h, 116, 8, 'gid', where);
        let uname = text(h, 265, 32);
        let gname = text(h, 297, 32);
        if (longName !== undefined) name = longName;
        if (longLink !== undefined) linkname = longLink;
        const p = pax;
        if (p.has('path')) name = p.get('path')!;
        if (p.has('linkpath')) linkname = p.get('linkpath')!;
        if (p.has('size')) size = Number(p.get('size'));
        if (p.has('mtime')) mtime = Number(p.get('mtime')) * 1000;
        if (p.has('uid')) uid = Number(p.get('uid'));
        if (p.has('gid')) gid = Number(p.get('gid'));
        if (p.has('uname')) uname = p.get('uname')!;
        if (p.has('gname')) gname = p.get('gname')!;
        const paxSparse = [...p.keys()].some((k) => k.startsWith('GNU.sparse.'));
        pax = new Map();
        extended = 0;
        longName = longLink = undefined;
        if (!Number.isSafeInteger(size) || size < 0)
          throw new RuntimeError('data-loss', `${where()}: the size "${size}" is not valid`);
        if (!Number.isFinite(mtime)) mtime = 0;

        lastName = name;
        const entryWhere = () => `tar entry "${name}" at offset ${headerOffset}`;
        let consumed = false;
        const entry: TarEntry = {
          path: name,
          type: paxSparse ? 'sparse' : typeOf(flag, name),
          typeflag: flag,
          mode: num(h, 100, 8, 'mode', entryWhere) & 0o7777,
          uid,
          gid,
          mtime,
          size,
          linkname,
          uname,
          gname,
          headerOffset,
          offset: dataOffset,
          async bytes() {
            if (consumed)
              throw new RuntimeError('failed-precondition', `${entryWhere()}: its data was already read or skipped`);
            consumed = true;
            const data = await r.read(size);
            if (data.length < size)
              throw new RuntimeError('data-loss', `${entryWhere()}: the archive is truncated inside the entry's data`);
            return data;
          },
        };
        yield entry;
        const left = consumed ? padded(size) - size : padded(size);
        if ((await r.skip(left)) < left) {
          throw new RuntimeError('data-loss', `${entryWhere()}: the archive is truncated inside the entry's data`);
        }
        consumed = true;
      }
      finished = true;
    } finally {
      // An error, or a consumer that stopped early: release the source.
      if (!finished) await r.cancel();
    }
  }

  return {
    get position() {
      return r.position;
    },
    async drain() {
      if (!finished) throw new RuntimeError('failed-precondition', 'drain() before the end of the archive');
      return r.drain();
    },
    [Symbol.asyncIterator]: entries,
  };
}
