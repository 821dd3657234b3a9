// Random access into a gzip layer without keeping its uncompressed tar: a "seek index" of
// checkpoints, each a place where the deflate stream may be entered again (the same idea as zlib's
// zran.c example and SOCI's zTOC). A checkpoint is taken at a deflate block boundary every `span`
// bytes of output and holds what inflating from there needs: the compressed byte offset, the bits of
// the byte before it that belong to the next block, and the last 32 KiB of output (the window that
// later back-references may reach into). Reading bytes at offset X of the tar then means inflating
// from the checkpoint at or before X to the next one: at most about `span` bytes of work.
//
// The inflater is pako's port of zlib, through its low-level API: `Z_BLOCK` makes it stop at every
// block boundary (reported in `data_type`), and a resumed inflate is a raw inflater primed with
// the window (inflateSetDictionary) and the leftover bits (the state's `hold`/`bits`, which is what
// zlib's inflatePrime sets; pako does not export inflatePrime).
//
// Integrity: the gzip CRC-32 and length are not checked here (the state's check flag is cleared, which
// saves a pass over the output): the compressed blob is verified by its digest before it is stored,
// and the tar by its diff_id as it is inflated at pull time.
import {
  deflateRaw,
  inflateRaw,
  ZStream,
  Z_BLOCK,
  Z_NO_FLUSH,
  Z_OK,
  Z_STREAM_END,
  Z_BUF_ERROR,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateSetDictionary,
} from 'pako';
import { RuntimeError } from '../core/index.ts';

const WINDOW = 32 * 1024;
/** Default distance between checkpoints, in uncompressed bytes. */
export const DEFAULT_SPAN = 1 << 20;
/**
 * A window is stored raw when its span took at least this many compressed bytes (so it costs at most
 * 1/12 of them), else deflated: data that compresses well has windows that do too, and deflating is
 * then cheap. (Deflating every window cost ~1 ms each on binary data; bounding spans by compressed
 * size instead made spans of a mostly-zero 200 MB file 70 MB long, and a cold read as slow.)
 */
export const MIN_SPAN_IN = 384 * 1024;

export interface GzipCheckpoint {
  /** Offset in the uncompressed stream. */
  out: number;
  /** Offset in the compressed stream of the first whole byte of the block that starts here. */
  in: number;
  /** How many high bits of the byte at `in - 1` belong to that block (0-7). */
  bits: number;
  /** The 32 KiB of output before `out` (less at the start); raw-deflated when `packed`. */
  window: Uint8Array;
  packed?: boolean;
}

export interface GzipSeekIndex {
  /** Length of the uncompressed stream. */
  size: number;
  /** Length of the compressed stream. */
  compressedSize: number;
  /** In order of `out`; the first is always the start of the stream. */
  checkpoints: GzipCheckpoint[];
}

function corrupt(detail: string): RuntimeError {
  return new RuntimeError('data-loss', `the gzip stream is corrupt or truncated: ${detail}`);
}

type Strm = ZStream & {
  input: Uint8Array;
  next_in: number;
  avail_in: number;
  output: Uint8Array;
  next_out: number;
  avail_out: number;
  total_in: number;
  data_type: number;
  msg: string;
  state: { wrap: number; hold: number; bits: number };
};

function newInflater(windowBits: number): Strm {
  const strm = new ZStream() as Strm;
  if (zlibInflateInit2(strm, windowBits) !== Z_OK) throw new Error('zlib init failed');
  // No CRC-32 of the output (see the header): digests check the bytes.
  strm.state.wrap &= ~4;
  return strm;
}

/**
 * Gunzips `input` as a stream (reading input only while output is read, like the other gunzips) and
 * builds the seek index as it goes; `index()` gives it once the output has ended. Concatenated gzip
 * members are read on; bytes after the last member that do not start another are ignored.
 */
export function checkpointingGunzip(
  input: ReadableStream<Uint8Array>,
  span = DEFAULT_SPAN,
  outChunk = 256 * 1024,
  spanIn = Math.min(MIN_SPAN_IN, span),
): { output: ReadableStream<Uint8Array>; index(): GzipSeekIndex } {
  const reader = input.getReader();
  let strm = newInflater(31);
  const checkpoints: GzipCheckpoint[] = [{ out: 0, in: 0, bits: 0, window: new Uint8Array(0) }];
  // The last 32 KiB of output, as a ring.
  const ring = new Uint8Array(WINDOW);
  let ringAt = 0;
  let totalOut = 0;
  let consumedIn = 0; // compressed bytes of earlier members and of earlier input chunks
  let lastCheckpoint = 0;
  let lastCheckpointIn = 0;
  let ended = false; // the last member ended
  let inputDone = false;
  let result: GzipSeekIndex | undefined;

  const remember = (bytes: Uint8Array) => {
    if (bytes.length >= WINDOW) {
      ring.set(bytes.subarray(bytes.length - WINDOW));
      ringAt = 0;
      return;
    }
    const first = Math.min(bytes.length, WINDOW - ringAt);
    ring.set(bytes.subarray(0, first), ringAt);
    ring.set(bytes.subarray(first), 0);
    ringAt = (ringAt + bytes.length) % WINDOW;
  };
  const windowNow = (): Uint8Array => {
    const have = Math.min(totalOut, WINDOW);
    const w = new Uint8Array(have);
    if (have < WINDOW) w.set(ring.subarray(0, have));
    else {
      w.set(ring.subarray(ringAt));
      w.set(ring.subarray(0, ringAt), WINDOW - ringAt);
    }
    return w;
  };

  // Next input chunk into the inflater; false at the end of input.
  const feed = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) {
      inputDone = true;
      return false;
    }
    consumedIn += strm.input ? strm.input.length : 0;
    strm.input = value;
    strm.next_in = 0;
    strm.avail_in = value.length;
    return true;
  };

  const output = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            if (ended) {
              controller.close();
              return;
            }
            if (strm.avail_in === 0 && !inputDone && !(await feed())) {
              // fall through: the inflater is told there is no more input below
            }
            if (strm.avail_in === 0 && inputDone) {
              throw corrupt('it ends before the end of the deflate stream');
            }
            const out = new Uint8Array(outChunk);
            strm.output = out;
            strm.next_out = 0;
            strm.avail_out = out.length;
            const status = zlibInflate(strm, Z_BLOCK);
            const n = strm.next_out;
            if (status !== Z_OK && status !== Z_STREAM_END && status !== Z_BUF_ERROR) {
              throw corrupt(strm.msg || `zlib status ${status}`);
            }
            if (status === Z_BUF_ERROR && n === 0 && strm.avail_in > 0) throw corrupt('the inflater is stuck');
            if (n > 0) {
              remember(out.subarray(0, n));
              totalOut += n;
            }
            const dt = strm.data_type;
            if (status === Z_OK && dt & 128 && !(dt & 64) && totalOut - lastCheckpoint >= span) {
              // A block boundary (not after the member's last block): fewer than 8 bits left over.
              const inNow = consumedIn + strm.next_in;
              const packed = inNow - lastCheckpointIn < spanIn;
              const window = windowNow();
              checkpoints.push({
                out: totalOut,
                in: inNow,
                bits: dt & 7,
                window: packed ? deflateRaw(window, { level: 1 }) : window,
                ...(packed ? { packed } : {}),
              });
              lastCheckpoint = totalOut;
              lastCheckpointIn = inNow;
            }
            if (status === Z_STREAM_END) {
              const rest = strm.input.subarray(strm.next_in);
              const at = consumedIn + strm.next_in;
              // Another member follows if its magic does; wait for two bytes to know.
              let next = rest;
              while (next.length < 2 && !inputDone) {
                const { value, done } = await reader.read();
                if (done) inputDone = true;
                else {
                  const joined = new Uint8Array(next.length + value.length);
                  joined.set(next);
                  joined.set(value, next.length);
                  next = joined;
                }
              }
              if (next.length >= 2 && next[0] === 0x1f && next[1] === 0x8b) {
                strm = newInflater(31);
                strm.input = next;
                strm.next_in = 0;
                strm.avail_in = next.length;
                consumedIn = at;
              } else {
                ended = true;
                consumedIn = at;
                result = { size: totalOut, compressedSize: at, checkpoints };
                void reader.cancel().catch(() => {});
              }
            }
            if (n > 0) {
              controller.enqueue(out.subarray(0, n));
              return;
            }
          }
        } catch (e) {
          await reader.cancel(e).catch(() => {});
          throw e instanceof RuntimeError ? e : corrupt((e as Error)?.message ?? String(e));
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return {
    output,
    index() {
      if (!result) throw new Error('the seek index is ready only once the whole stream was read');
      return result;
    },
  };
}

/** The checkpoint a read at uncompressed `offset` starts from (the last one at or before it). */
export function checkpointFor(index: GzipSeekIndex, offset: number): number {
  const cps = index.checkpoints;
  let lo = 0;
  let hi = cps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cps[mid].out <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The compressed byte range span `i` is inflated from: [start, end). */
export function spanInput(index: GzipSeekIndex, i: number): { start: number; end: number } {
  const cp = index.checkpoints[i];
  const next = index.checkpoints[i + 1];
  return { start: cp.in - (cp.bits ? 1 : 0), end: next ? next.in : index.compressedSize };
}

/** Uncompressed length of span `i`. */
export function spanSize(index: GzipSeekIndex, i: number): number {
  const next = index.checkpoints[i + 1];
  return (next ? next.out : index.size) - index.checkpoints[i].out;
}

/**
 * Inflates span `i` (the tar bytes from checkpoint i to the next) from `input`, the compressed bytes
 * spanInput(index, i) names. RuntimeError 'data-loss' if they do not inflate to the span.
 */
export function inflateSpan(index: GzipSeekIndex, i: number, input: Uint8Array): Uint8Array {
  const cp = index.checkpoints[i];
  const want = spanSize(index, i);
  const out = new Uint8Array(want);
  let strm: Strm;
  let at = 0;
  if (i === 0) {
    strm = newInflater(31);
  } else {
    strm = newInflater(-15);
    const window = cp.packed ? unpackWindow(cp.window) : cp.window;
    if (window.length && zlibInflateSetDictionary(strm, window) !== Z_OK) throw corrupt('bad window');
    if (cp.bits) {
      // What inflatePrime does: the high `bits` bits of the byte before `in` are the next bits.
      strm.state.hold = input[0] >> (8 - cp.bits);
      strm.state.bits = cp.bits;
      at = 1;
    }
  }
  strm.input = input;
  strm.next_in = at;
  strm.avail_in = input.length - at;
  let put = 0;
  while (put < want) {
    strm.output = out;
    strm.next_out = put;
    strm.avail_out = want - put;
    const status = zlibInflate(strm, Z_NO_FLUSH);
    put = strm.next_out;
    if (status === Z_STREAM_END && put < want) {
      // The member ended inside the span: its 8-byte trailer, then the next member's header.
      const next = strm.next_in + (i === 0 || strm.state.wrap ? 0 : 8);
      strm = newInflater(31);
      strm.input = input;
      strm.next_in = next;
      strm.avail_in = input.length - next;
      i = 0; // from here on, members carry their own header and trailer
      continue;
    }
    if (status !== Z_OK && status !== Z_STREAM_END) throw corrupt(strm.msg || `zlib status ${status}`);
    if (status === Z_OK && strm.avail_in === 0 && put < want) throw corrupt('a span ends early');
  }
  return out;
}

function unpackWindow(packed: Uint8Array): Uint8Array {
  try {
    const w = inflateRaw(packed);
    if (w.length <= WINDOW) return w;
  } catch {
    // reported below
  }
  throw new RuntimeError('data-loss', 'a stored gzip seek index is damaged; pull the image again');
}

const MAGIC = 0x42534b31; // "BSK1"

/**
 * The seek index as bytes (stored beside the layer's index; the high bit of a checkpoint's bits byte
 * says its window is deflated). Under ~8% of the compressed size (MIN_SPAN_IN).
 */
export function encodeSeekIndex(index: GzipSeekIndex): Uint8Array {
  const cps = index.checkpoints;
  const total = 4 + 8 + 8 + 4 + cps.reduce((n, c) => n + 8 + 8 + 1 + 4 + c.window.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  dv.setUint32(at, MAGIC);
  dv.setFloat64((at += 4), index.size);
  dv.setFloat64((at += 8), index.compressedSize);
  dv.setUint32((at += 8), cps.length);
  at += 4;
  for (const c of cps) {
    dv.setFloat64(at, c.out);
    dv.setFloat64(at + 8, c.in);
    dv.setUint8(at + 16, c.bits | (c.packed ? 0x80 : 0));
    dv.setUint32(at + 17, c.window.length);
    out.set(c.window, at + 21);
    at += 21 + c.window.length;
  }
  return out;
}

/** decodeSeekIndex(encodeSeekIndex(x)) equals x; RuntimeError 'data-loss' for anything else. */
export function decodeSeekIndex(bytes: Uint8Array): GzipSeekIndex {
  const bad = () => new RuntimeError('data-loss', 'a stored gzip seek index is damaged; pull the image again');
  if (!(bytes instanceof Uint8Array) || bytes.length < 24) throw bad();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== MAGIC) throw bad();
  const size = dv.getFloat64(4);
  const compressedSize = dv.getFloat64(12);
  const count = dv.getUint32(20);
  let at = 24;
  const checkpoints: GzipCheckpoint[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 21 > bytes.length) throw bad();
    const wlen = dv.getUint32(at + 17);
    if (wlen > 2 * WINDOW || at + 21 + wlen > bytes.length) throw bad();
    checkpoints.push({
      out: dv.getFloat64(at),
      in: dv.getFloat64(at + 8),
      bits: dv.getUint8(at + 16) & 0x7f,
      window: bytes.subarray(at + 21, at + 21 + wlen),
      ...(dv.getUint8(at + 16) & 0x80 ? { packed: true } : {}),
    });
    at += 21 + wlen;
  }
  const ok =
    checkpoints.length > 0 &&
    checkpoints[0].out === 0 &&
    checkpoints.every(
      (c, k) =>
        Number.isSafeInteger(c.out) &&
        Number.isSafeInteger(c.in) &&
        c.bits < 8 &&
        c.out <= size &&
        c.in <= compressedSize &&
        (k === 0 || (c.out > checkpoints[k - 1].out && c.in > checkpoints[k - 1].in)),
    );
  if (!ok || at !== bytes.length) throw bad();
  return { size, compressedSize, checkpoints };
}

/** The whole stream, inflated span by span from `compressed` (tests and tools: every span checked). */
export function seekSpans(index: GzipSeekIndex, compressed: Uint8Array): Uint8Array {
  const out = new Uint8Array(index.size);
  for (let i = 0; i < index.checkpoints.length; i++) {
    const { start, end } = spanInput(index, i);
    out.set(inflateSpan(index, i, compressed.subarray(start, end)), index.checkpoints[i].out);
  }
  return out;
}
