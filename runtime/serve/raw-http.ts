// The raw HTTP bridge (the article's protocol): the whole HTTP/1.1 request goes to the program's
// stdin, and the program writes an HTTP/1.1 response (Content-Length, chunked, or until EOF) to stdout.
import { readAllCapped, RuntimeError } from '../core/index.ts';
import type { HttpRequestData, HttpResponseData } from './http-data.ts';
import { CollectingSink, RawResponseParser } from './response-parser.ts';

export type { HttpRequestData, HttpResponseData } from './http-data.ts';

const enc = new TextEncoder();

/**
 * The request, its body read whole (it becomes the program's stdin): RuntimeError
 * 'resource-exhausted' as soon as more than `maxBodyBytes` arrived (before, nothing limited it: one
 * POST could take the Service Worker's or berth serve's memory).
 */
export async function requestData(req: Request, maxBodyBytes = Number.POSITIVE_INFINITY): Promise<HttpRequestData> {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return {
    method: req.method,
    url: req.url,
    headers: [...req.headers],
    body: hasBody ? await readBody(req, maxBodyBytes) : null,
  };
}

async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length'));
  const tooLarge = () =>
    new RuntimeError('resource-exhausted', `the request's body is larger than this service takes (${max} bytes)`);
  if (declared > max) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!req.body) return new Uint8Array(0);
  return readAllCapped(req.body, max, tooLarge);
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

/** Parses a complete HTTP/1.1 response; RuntimeError('invalid-argument') if it is not one. */
export function parseRawResponse(bytes: Uint8Array): HttpResponseData {
  const sink = new CollectingSink();
  const parser = new RawResponseParser(sink);
  parser.push(bytes);
  parser.end();
  return sink.response();
}
