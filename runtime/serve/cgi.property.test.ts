// Properties of the WAGI/CGI output parser (fast-check): a generated CGI head (Status, Location,
// other fields) and body, written in any chunking, parse to the status, fields and body written;
// any bytes end in a response or berth's RuntimeError.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isRuntimeError } from '../core/index.ts';
import { CgiResponseParser, CollectingSink } from './response-parser.ts';

const enc = new TextEncoder();
const token = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)
  .filter((k) => !/^(status|location|transfer-encoding|connection|keep-alive)$/i.test(k));
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);

function parse(bytes: Uint8Array, split: number) {
  const sink = new CollectingSink();
  const p = new CgiResponseParser(sink);
  for (let i = 0; i < bytes.length; i += split) p.push(bytes.subarray(i, i + split));
  p.end();
  return sink.response();
}

describe('CGI output', () => {
  test.prop(
    [
      fc.option(fc.tuple(fc.integer({ min: 200, max: 599 }), fc.stringMatching(/^[A-Za-z ]{0,20}$/))),
      fc.option(value),
      fc.uniqueArray(fc.tuple(token, value), { selector: ([k]) => k.toLowerCase(), maxLength: 5 }),
      fc.uint8Array({ maxLength: 2000 }),
      fc.constantFrom('\n', '\r\n'),
      fc.integer({ min: 1, max: 64 }),
    ],
    { numRuns: 300 },
  )(
    'parses back the status, fields and body written, in any chunking',
    (status, location, fields, body, eol, split) => {
      const lines = [
        ...(status ? [`Status: ${status[0]} ${status[1]}`.trimEnd()] : []),
        ...(location ? [`Location: ${location}`] : []),
        ...fields.map(([k, v]) => `${k}: ${v}`),
      ];
      if (lines.length === 0) lines.push('Content-Type: text/plain');
      const head = enc.encode(`${lines.join(eol)}${eol}${eol}`);
      const bytes = new Uint8Array([...head, ...body]);
      const r = parse(bytes, split);
      expect(r.status).toBe(status ? status[0] : location ? 302 : 200);
      if (status) expect(r.statusText).toBe(status[1].trim());
      const expected = [...(location ? [['Location', location]] : []), ...fields];
      if (lines[0] === 'Content-Type: text/plain' && !status && !location && !fields.length)
        expected.push(['Content-Type', 'text/plain']);
      expect(r.headers).toEqual(expected);
      // A 204 or a 304 has no body, whatever follows its head (RFC 9110 15.3.5, 15.4.5).
      const none = status !== null && (status[0] === 204 || status[0] === 304);
      expect(Buffer.from(r.body).equals(Buffer.from(none ? new Uint8Array(0) : body))).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 1024 }), fc.integer({ min: 1, max: 50 })], { numRuns: 400 })(
    'any bytes: a response or RuntimeError',
    (bytes, split) => {
      try {
        parse(bytes, split);
      } catch (e) {
        expect(isRuntimeError(e), String(e)).toBe(true);
      }
    },
  );
});
