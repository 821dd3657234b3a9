// Incremental parsers for what a program writes on stdout: an HTTP/1.1 response (raw mode) or CGI
// headers then a body (WAGI mode). The head is passed on as soon as it is complete and the body
// chunk by chunk as it comes, so a response streams while the program still runs.
import { RuntimeError } from '../core/index.ts';
import type { HttpResponseData } from './http-data.ts';

export interface ResponseHead {
  status: number;
  statusText: string;
  headers: [string, string][];
}

export interface ResponseSink {
  head(head: ResponseHead): void;
  body(chunk: Uint8Array): void;
  /** A promise while the reader is behind (the program should wait), else undefined. */
  ready?(): Promise<void> | undefined;
}

const dec = new TextDecoder();
const HOP_BY_HOP = ['transfer-encoding', 'connection', 'keep-alive'];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values and reason phrases: HTAB, SP, VCHAR and obs-text; no other control characters.
const FIELD_TEXT = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Head bytes as a byte string (one char per byte), which is what HTTP fields are: any byte the
 * program wrote reaches the browser as is, instead of UTF-8 decoding that the Headers API refuses. */
function byteString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

const bad = (why: string) => new RuntimeError('invalid-argument', why);
const shown = (s: string) => JSON.stringify(s.slice(0, 80));

/** A head the browser can send: a final status, token names, values without control characters. */
function checkedHead(head: ResponseHead): ResponseHead {
  if (head.status < 200 || head.status > 599) throw bad(`status ${head.status} is not a final HTTP status (200-599)`);
  if (!FIELD_TEXT.test(head.statusText))
    throw bad(`the reason phrase ${shown(head.statusText)} has control characters`);
  for (const [name, value] of head.headers) {
    if (!TOKEN.test(name)) throw bad(`${shown(name)} is not a valid header name`);
    if (!FIELD_TEXT.test(value)) throw bad(`the value of header ${name} has control characters`);
  }
  return head;
}

function headEnd(b: Uint8Array, from: number): { end: number; sep: number } | undefined {
  for (let i = Math.max(0, from - 3); i < b.length; i++) {
    if (b[i] === 10) {
      if (b[i + 1] === 10) return { end: i, sep: 2 };
      if (b[i + 1] === 13 && b[i + 2] === 10) return { end: i, sep: 3 };
    }
  }
  return undefined;
}

/** Optional whitespace around a field's name and value: spaces and tabs only (RFC 9110 5.6.3). */
const ows = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

function parseHeaderLines(lines: string[]): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad(`malformed response header line: ${shown(line)}`);
    // Not String.trim(): it also takes off U+00A0 (the byte 0xA0 of a latin1 head), which is the
    // value's own (Node keeps it; the property test against Node's parser found the difference).
    headers.push([ows(line.slice(0, colon)), ows(line.slice(colon + 1))]);
  }
  return headers;
}

/**
 * The body length a head declares, or undefined. Several Content-Length fields (or a list) must agree
 * (RFC 9110 8.6); a response whose body is framed otherwise (chunked) loses the field, so what is
 * sent on never says a length its body does not have: the Node server wrote the body it was given
 * after a head that said less, and the bytes past that length read as a second response.
 */
function declaredLength(headers: [string, string][]): number | undefined {
  const values = headers
    .filter(([k]) => k.toLowerCase() === 'content-length')
    .flatMap(([, v]) => v.split(',').map((x) => x.trim()));
  if (values.length === 0) return undefined;
  if (new Set(values).size > 1) throw bad(`conflicting Content-Length values ${shown(values.join(', '))}`);
  const n = Number(values[0]);
  if (!/^\d+$/.test(values[0]) || !Number.isSafeInteger(n)) throw bad(`bad Content-Length ${shown(values[0])}`);
  return n;
}
const withoutLength = (headers: [string, string][]) => headers.filter(([k]) => k.toLowerCase() !== 'content-length');

/** Passes on at most `remaining` bytes of a body; says how many were missing at the end. */
class LengthLimit {
  constructor(private remaining: number) {}
  take(chunk: Uint8Array, out: (c: Uint8Array) => void): void {
    if (this.remaining <= 0) return;
    const part = chunk.length > this.remaining ? chunk.subarray(0, this.remaining) : chunk;
    this.remaining -= part.length;
    out(part.slice());
  }
  end(): void {
    if (this.remaining > 0)
      throw new RuntimeError('invalid-argument', `the body ended ${this.remaining} bytes short of its Content-Length`);
  }
}

abstract class HeadThenBody {
  private buf = new Uint8Array(0);
  private scanned = 0;
  protected headDone = false;
  constructor(
    protected readonly sink: ResponseSink,
    /** The request was HEAD: whatever the head says, the response has no body. */
    protected readonly options: { head?: boolean } = {},
  ) {}

  get started(): boolean {
    return this.headDone;
  }

  push(chunk: Uint8Array): void {
    if (this.headDone) return this.onBody(chunk);
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf);
    next.set(chunk, this.buf.length);
    this.buf = next;
    const found = headEnd(this.buf, this.scanned);
    if (!found) {
      this.scanned = this.buf.length;
      if (this.buf.length > 64 * 1024)
        throw new RuntimeError('invalid-argument', 'the response head is longer than 64 KiB');
      return;
    }
    const text = byteString(this.buf.subarray(0, found.end)).replace(/\r$/, '');
    // Done only once the sink has the head: a head refused here leaves the response unstarted, so
    // the caller can still answer 502 in its place.
    this.onHead(text.split(/\r?\n/));
    this.headDone = true;
    const rest = this.buf.subarray(found.end + found.sep);
    this.buf = new Uint8Array(0);
    if (rest.length) this.onBody(rest);
  }

  /** The program is done; throws if it never completed a head. */
  end(): void {
    if (!this.headDone) {
      throw new RuntimeError(
        'invalid-argument',
        this.buf.length
          ? 'the program wrote no complete response head (no blank line after the headers)'
          : 'the program wrote nothing to stdout',
      );
    }
    this.onEnd();
  }

  protected abstract onHead(lines: string[]): void;
  protected abstract onBody(chunk: Uint8Array): void;
  protected onEnd(): void {}
}

/** Raw mode: `HTTP/1.x status` line, headers, then a body by Content-Length, chunked, or to EOF. */
export class RawResponseParser extends HeadThenBody {
  private limit?: LengthLimit;
  private chunked?: ChunkedDecoder;

  protected onHead([statusLine, ...lines]: string[]): void {
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m)
      throw new RuntimeError(
        'invalid-argument',
        `the program's status line is not HTTP/1.x: ${JSON.stringify(statusLine.slice(0, 80))}`,
      );
    let headers = parseHeaderLines(lines);
    const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    const status = Number(m[1]);
    // 204 and 304 have no body, whatever Content-Length or Transfer-Encoding says (RFC 9112 6.3):
    // what follows the head is not theirs (found by the differential property against Node).
    if (status === 204 || status === 304 || this.options.head) this.limit = new LengthLimit(0);
    else if (get('transfer-encoding')?.toLowerCase() === 'chunked') {
      // Chunked wins over Content-Length (RFC 9112 6.3), which then goes.
      this.chunked = new ChunkedDecoder((c) => this.sink.body(c));
      headers = withoutLength(headers);
    } else {
      const n = declaredLength(headers);
      if (n !== undefined) this.limit = new LengthLimit(n);
    }
    this.sink.head(
      checkedHead({
        status,
        statusText: m[2] ?? '',
        headers: headers.filter(([k]) => !HOP_BY_HOP.includes(k.toLowerCase())),
      }),
    );
  }

  protected onBody(chunk: Uint8Array): void {
    if (this.chunked) return this.chunked.push(chunk);
    if (this.limit) return this.limit.take(chunk, (c) => this.sink.body(c));
    this.sink.body(chunk.slice());
  }

  protected onEnd(): void {
    if (this.chunked && !this.chunked.done)
      throw new RuntimeError('invalid-argument', 'the chunked body ended before its last chunk');
    this.limit?.end();
  }
}

/** WAGI/CGI mode: header lines (`Status: 404 Not Found`, `Location`, `Content-Type`, ...), then the body to EOF. */
export class CgiResponseParser extends HeadThenBody {
  private limit?: LengthLimit;
  protected onHead(lines: string[]): void {
    const headers = parseHeaderLines(lines);
    // A body runs to EOF; a Content-Length the program declares is held to, as in raw mode (not for
    // a HEAD, a 204 or a 304, which have none whatever it says).
    const n = declaredLength(headers);
    if (n !== undefined) this.limit = new LengthLimit(n);
    let status = 200;
    let statusText = 'OK';
    const statusHeader = headers.find(([k]) => k.toLowerCase() === 'status');
    if (statusHeader) {
      const m = /^(\d{3})\s*(.*)$/.exec(statusHeader[1]);
      if (!m) throw new RuntimeError('invalid-argument', `bad CGI Status header ${JSON.stringify(statusHeader[1])}`);
      status = Number(m[1]);
      statusText = m[2];
    } else if (headers.some(([k]) => k.toLowerCase() === 'location')) {
      status = 302;
      statusText = 'Found';
    }
    if (status === 204 || status === 304 || this.options.head) this.limit = new LengthLimit(0);
    this.sink.head(
      checkedHead({
        status,
        statusText,
        headers: headers.filter(([k]) => k.toLowerCase() !== 'status' && !HOP_BY_HOP.includes(k.toLowerCase())),
      }),
    );
  }
  protected onBody(chunk: Uint8Array): void {
    if (this.limit) return this.limit.take(chunk, (c) => this.sink.body(c));
    this.sink.body(chunk.slice());
  }
  protected onEnd(): void {
    this.limit?.end();
  }
}

/** The longest chunk size line (with its extensions) a chunked body may have. */
const MAX_CHUNK_LINE = 4096;

class ChunkedDecoder {
  private buf = new Uint8Array(0);
  private need = -1; // bytes of chunk data still to pass on; -1 = reading a size line
  done = false;
  constructor(private readonly out: (c: Uint8Array) => void) {}
  push(chunk: Uint8Array): void {
    if (this.done) return; // what follows the last chunk is not kept (it was copied with each push)
    const b = new Uint8Array(this.buf.length + chunk.length);
    b.set(this.buf);
    b.set(chunk, this.buf.length);
    let at = 0;
    while (!this.done && at < b.length) {
      if (this.need > 0) {
        const n = Math.min(this.need, b.length - at);
        this.out(b.slice(at, at + n));
        this.need -= n;
        at += n;
        continue;
      }
      // At a size line, or the CRLF after a chunk's data (need === 0).
      let eol = at;
      while (eol + 1 < b.length && !(b[eol] === 13 && b[eol + 1] === 10)) eol++;
      if (eol + 1 >= b.length) {
        // What is kept for the next push is copied and scanned again with it: a line that never
        // ended made each push cost its whole length (16 MiB of one, 4 KiB at a time: 58 s).
        if (b.length - at > MAX_CHUNK_LINE)
          throw new RuntimeError('invalid-argument', `a chunk size line longer than ${MAX_CHUNK_LINE} bytes`);
        break;
      }
      if (this.need === 0) {
        this.need = -1;
        at = eol + 2;
        continue;
      }
      const size = parseInt(dec.decode(b.subarray(at, eol)).split(';')[0].trim(), 16);
      if (!Number.isFinite(size) || size < 0)
        throw new RuntimeError('invalid-argument', 'bad chunk size in a chunked body');
      at = eol + 2;
      if (size === 0) this.done = true;
      else this.need = size;
    }
    this.buf = b.slice(at);
  }
}

/** Collects a parsed response whole (the in-SW path and tests). */
export class CollectingSink implements ResponseSink {
  received?: ResponseHead;
  private readonly chunks: Uint8Array[] = [];
  head(h: ResponseHead): void {
    this.received = h;
  }
  body(c: Uint8Array): void {
    this.chunks.push(c);
  }
  bodyBytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((a, c) => a + c.length, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
  /** The whole response; a sink that got no head is a bug of its writer. */
  response(): HttpResponseData {
    if (!this.received) throw new RuntimeError('internal', 'the response ended before its head was written');
    return { ...this.received, body: this.bodyBytes() };
  }
}
