import { describe, expect, it } from 'vitest';
import { encodeRawRequest, parseRawResponse, requestData } from './raw-http.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('raw HTTP bridge', () => {
  it('encodes a GET with the path relative to the service and a Host header', async () => {
    const data = await requestData(
      new Request('http://127.0.0.1:5173/svc/x/a/b?q=1', { headers: { Accept: 'text/plain' } }),
    );
    const raw = dec.decode(encodeRawRequest(data, '/a/b?q=1'));
    expect(raw.startsWith('GET /a/b?q=1 HTTP/1.1\r\nHost: 127.0.0.1:5173\r\n')).toBe(true);
    expect(raw).toContain('accept: text/plain\r\n');
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
    expect(raw).not.toContain('Content-Length');
  });

  it('encodes a binary POST body with its Content-Length', async () => {
    const body = new Uint8Array([0, 1, 2, 255, 13, 10]);
    const data = await requestData(new Request('http://h/svc/x/up', { method: 'POST', body }));
    const raw = encodeRawRequest(data, '/up');
    const head = dec.decode(raw.subarray(0, raw.length - body.length));
    expect(head).toContain('Content-Length: 6\r\n\r\n');
    expect(raw.subarray(raw.length - body.length)).toEqual(body);
  });

  it('parses a Content-Length response and ignores bytes past it', () => {
    const r = parseRawResponse(enc.encode('HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: b c\r\n\r\nhelloEXTRA'));
    expect(r.status).toBe(201);
    expect(r.statusText).toBe('Created');
    expect(r.headers).toEqual([
      ['Content-Length', '5'],
      ['X-A', 'b c'],
    ]);
    expect(dec.decode(r.body)).toBe('hello');
  });

  it('parses a chunked response and drops the hop-by-hop header', () => {
    const r = parseRawResponse(
      enc.encode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n'),
    );
    expect(dec.decode(r.body)).toBe('hello, world');
    expect(r.headers.find(([k]) => k.toLowerCase() === 'transfer-encoding')).toBeUndefined();
  });

  it('reads the body to EOF when there is no length', () => {
    expect(dec.decode(parseRawResponse(enc.encode('HTTP/1.0 404\r\n\r\nnope')).body)).toBe('nope');
  });

  it('refuses what is not an HTTP response', () => {
    expect(() => parseRawResponse(enc.encode('hello'))).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() => parseRawResponse(enc.encode('HTTP/2 200\r\n\r\n'))).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() => parseRawResponse(enc.encode('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'))).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() =>
      parseRawResponse(enc.encode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc')),
    ).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

// A request's body is read whole (it is the program's stdin): to at most the service's cap.
describe('requestData', () => {
  it('refuses a declared length past the cap without reading, and an endless body once past it', async () => {
    const { requestData } = await import('./raw-http.ts');
    let pulled = 0;
    const body = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          pulled += 1000;
          c.enqueue(new Uint8Array(1000));
        },
      });
    const declared = new Request('http://x/svc/a/', {
      method: 'POST',
      body: body(),
      headers: { 'content-length': '999999' },
      duplex: 'half',
    } as RequestInit);
    await expect(requestData(declared, 5000)).rejects.toMatchObject({ code: 'resource-exhausted' });
    pulled = 0;
    const endless = new Request('http://x/svc/a/', { method: 'POST', body: body(), duplex: 'half' } as RequestInit);
    await expect(requestData(endless, 5000)).rejects.toMatchObject({ code: 'resource-exhausted' });
    expect(pulled).toBeLessThan(20_000);
    const fits = await requestData(new Request('http://x/svc/a/', { method: 'POST', body: 'hello' }), 5);
    expect(new TextDecoder().decode(fits.body!)).toBe('hello');
  });
});
