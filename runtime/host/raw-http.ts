// The raw HTTP bridge (the article's protocol): the whole HTTP/1.1 request goes to the program's
// stdin, and the program writes an HTTP/1.1 response (Content-Length, chunked, or until EOF) to stdout.
import { RuntimeError } from '../core/index.ts';

/** A request or response in a form that survives postMessage. */
export interface HttpRequestData {
  method: string;
  /** Absolute URL as the client asked for it. */
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

export interface HttpResponseData {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function requestData(req: Request): Promise<HttpRequestData> {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return {
    method: req.method,
    url: req.url,
    headers: [...req.headers],
    body: hasBody ? new Uint8Array(await req.arrayBuffer()) : null,
  };
}

/** The request as HTTP/1.1 bytes, with `path` (path + query) as the request target. */
export function encodeRawRequest(req: HttpRequestData, path: string): Uint8Array {
  const url = new URL(req.url);
  const lines = [`${req.method} ${path} HTTP/1.1`];
  let hasHost = false;
  for (const [k, v] of req.headers) {
    const name = k.toLowerCase();
    if (name === 'host') hasHost = true;
    if (name === 'content-length' || name === 'transfer-encoding') continue;
    lines.push(`${k}: ${v}`);
  }
  if (!hasHost) lines.unshift(lines.shift()!, `Host: ${url.host}`);
  if (req.body) lines.push(`Content-Length: ${req.body.length}`);
  const head = enc.encode(`${lines.join('\r\n')}\r\n\r\n`);
  if (!req.body || req.body.length === 0) return head;
  const out = new Uint8Array(head.length + req.body.length);
  out.set(head);
  out.set(req.body, head.length);
  return out;
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Parses a complete HTTP/1.1 response; RuntimeError('invalid-argument') if it is not one. */
export function parseRawResponse(bytes: Uint8Array): HttpResponseData {
  const end = indexOfCrlfCrlf(bytes);
  if (end < 0) throw new RuntimeError('invalid-argument', 'the program wrote no HTTP response head (no blank line after the headers)');
  const [statusLine, ...headerLines] = dec.decode(bytes.subarray(0, end)).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) throw new RuntimeError('invalid-argument', `the program's status line is not HTTP/1.x: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: [string, string][] = [];
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new RuntimeError('invalid-argument', `malformed response header line: ${JSON.stringify(line.slice(0, 80))}`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  let body = bytes.subarray(end + 4);
  const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  if (get('transfer-encoding')?.toLowerCase() === 'chunked') {
    body = decodeChunked(body);
  } else {
    const cl = get('content-length');
    if (cl !== undefined) {
      const n = Number(cl);
      if (!Number.isInteger(n) || n < 0) throw new RuntimeError('invalid-argument', `bad Content-Length ${JSON.stringify(cl)}`);
      if (body.length < n) throw new RuntimeError('invalid-argument', `the program's body is ${body.length} bytes, shorter than its Content-Length ${n}`);
      body = body.subarray(0, n);
    }
  }
  const status = Number(m[1]);
  const kept = headers.filter(([k]) => !['transfer-encoding', 'connection', 'keep-alive'].includes(k.toLowerCase()));
  return { status, statusText: m[2] ?? '', headers: kept, body: body.slice() };
}

function decodeChunked(b: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    let lineEnd = at;
    while (lineEnd + 1 < b.length && !(b[lineEnd] === 13 && b[lineEnd + 1] === 10)) lineEnd++;
    if (lineEnd + 1 >= b.length) throw new RuntimeError('invalid-argument', 'chunked body ends inside a chunk header');
    const size = parseInt(dec.decode(b.subarray(at, lineEnd)).split(';')[0], 16);
    if (!Number.isFinite(size)) throw new RuntimeError('invalid-argument', 'bad chunk size in chunked body');
    at = lineEnd + 2;
    if (size === 0) break;
    if (at + size > b.length) throw new RuntimeError('invalid-argument', 'chunked body is truncated');
    parts.push(b.subarray(at, at + size));
    at += size + 2;
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
