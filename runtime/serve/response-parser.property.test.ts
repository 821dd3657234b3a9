// Differential property (fast-check): berth's raw HTTP response parser (what a raw-mode program
// prints) and Node's own HTTP client parser (llhttp) agree on status, fields and body for every
// generated response both accept: Content-Length, chunked and close-delimited bodies, with bytes
// changed in some. And any bytes end in a response or berth's RuntimeError.
import { fc, test } from '@fast-check/vitest';
import { createServer, type Server } from 'node:net';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { RuntimeError } from '../core/index.ts';
import { CollectingSink, RawResponseParser } from './response-parser.ts';

const enc = new TextEncoder();
const HOP = new Set(['transfer-encoding', 'connection', 'keep-alive']);

type Parsed = { status: number; headers: [string, string][]; body: Buffer } | { error: string };

function berthParse(bytes: Uint8Array, split: number): Parsed {
  const sink = new CollectingSink();
  const p = new RawResponseParser(sink);
  try {
    for (let i = 0; i < bytes.length; i += split) p.push(bytes.subarray(i, i + split));
    p.end();
    const r = sink.response();
    return { status: r.status, headers: r.headers, body: Buffer.from(r.body) };
  } catch (e) {
    if (!(e instanceof RuntimeError)) throw e;
    return { error: e.message };
  }
}

let server: Server;
let port = 0;
let next: Uint8Array = new Uint8Array();
beforeAll(async () => {
  // Answers each connection with the bytes of the current case, then closes it.
  server = createServer((socket) => {
    socket.once('data', () => socket.end(next));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

function nodeParse(bytes: Uint8Array): Promise<Parsed> {
  next = bytes;
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = res.rawHeaders;
        const headers: [string, string][] = [];
        for (let i = 0; i < raw.length; i += 2) headers.push([raw[i], raw[i + 1]]);
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (e) => resolve({ error: String(e) }));
      res.on('aborted', () => resolve({ error: 'aborted' }));
    });
    req.on('error', (e) => resolve({ error: String(e) }));
    req.end();
  });
}

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !HOP.has(n.toLowerCase()));
const value = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/);
const response = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }),
    reason: fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,20}$/),
    headers: fc.array(fc.tuple(token, value), { maxLength: 6 }),
    framing: fc.constantFrom('length', 'chunked', 'close'),
    body: fc.uint8Array({ maxLength: 2000 }),
    chunks: fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ status, reason, headers, framing, body, chunks }) => {
    const fields = headers.filter(([k]) => !/^content-length$/i.test(k));
    if (framing === 'length') fields.push(['Content-Length', String(body.length)]);
    if (framing === 'chunked') fields.push(['Transfer-Encoding', 'chunked']);
    const head = enc.encode(`HTTP/1.1 ${status} ${reason}\r\n${fields.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    let payload: Uint8Array = body;
    if (framing === 'chunked') {
      const parts: Uint8Array[] = [];
      let at = 0;
      for (let i = 0; at < body.length; i++) {
        const n = Math.min(chunks[i % chunks.length], body.length - at);
        parts.push(enc.encode(`${n.toString(16)}\r\n`), body.subarray(at, at + n), enc.encode('\r\n'));
        at += n;
      }
      parts.push(enc.encode('0\r\n\r\n'));
      payload = Buffer.concat(parts);
    }
    return new Uint8Array(Buffer.concat([head, payload]));
  });

const withChanges = fc
  .tuple(response, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
  .map(([bytes, changes]) => {
    const out = bytes.slice();
    for (const [at, b] of changes) out[at % out.length] = b;
    return out;
  });

const visible = (h: [string, string][]) => h.filter(([k]) => !HOP.has(k.toLowerCase()));

describe('raw HTTP responses, berth against Node', () => {
  test.prop([withChanges, fc.integer({ min: 1, max: 300 })], { numRuns: 150 })(
    'agree on every response both accept',
    async (bytes, split) => {
      const ours = berthParse(bytes, split);
      const node = await nodeParse(bytes);
      if ('error' in ours || 'error' in node) return;
      expect(ours.status).toBe(node.status);
      expect(visible(ours.headers)).toEqual(visible(node.headers));
      expect(ours.body.equals(node.body)).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 })], { numRuns: 500 })(
    'any bytes end in a response or RuntimeError',
    (bytes, split) => {
      berthParse(bytes, split);
    },
  );
});
