import { describe, expect, it } from 'vitest';
import { checkOutgoingHosts, hostMatches, outgoingRefusal } from './outgoing-policy.ts';
import type { ServiceRecord } from './service-record.ts';

const service = (outgoingHosts?: string[]): ServiceRecord => ({
  name: 'kit',
  image: 'x',
  imageDigest: `sha256:${'0'.repeat(64)}`,
  mode: 'wasi-http',
  volumes: [],
  created: 0,
  ...(outgoingHosts ? { outgoingHosts } : {}),
});
const FROM = 'http://127.0.0.1:8080/svc/kit/call';

describe('where a wasi:http service may send requests', () => {
  it("allows berth's other services only when listed, never berth's own files or the service itself", () => {
    const hello = new URL('http://127.0.0.1:8080/svc/hello/x?y=1');
    // From a review by attack: any handler could call (and read) every service of the user's.
    expect(outgoingRefusal(service(), FROM, hello)).toMatch(/may not call service hello \(list \/svc\/hello\/ among/);
    expect(outgoingRefusal(service(['/svc/notes/']), FROM, hello)).toMatch(/may not call service hello/);
    expect(outgoingRefusal(service(['/svc/hello/']), FROM, hello)).toBeUndefined();
    expect(outgoingRefusal(service(['/svc/hello']), FROM, hello)).toBeUndefined();
    expect(outgoingRefusal(service(['/svc/*/']), FROM, hello)).toBeUndefined();
    expect(outgoingRefusal(service(['/svc/*/']), FROM, new URL('http://127.0.0.1:8080/svc/%68ello/'))).toBeUndefined();
    expect(outgoingRefusal(service(['/svc/*/']), FROM, new URL('http://127.0.0.1:8080/svc/kit/'))).toMatch(/itself/);
    expect(outgoingRefusal(service(), FROM, new URL('http://127.0.0.1:8080/svc/%6bit/'))).toMatch(/itself/);
    // The same server by another loopback name is the same server, whatever hosts are listed.
    for (const other of [
      'http://localhost:8080',
      'http://127.0.0.2:8080',
      'http://[::1]:8080',
      'http://0.0.0.0:8080',
    ]) {
      const s = service(['localhost', '127.0.0.2', '[::1]', '0.0.0.0', 'localhost:8080']);
      expect(outgoingRefusal(s, FROM, new URL(`${other}/svc/hello/`)), other).toMatch(/may not call service hello/);
      expect(outgoingRefusal(s, FROM, new URL(`${other}/index.html`)), other).toMatch(/berth's own/);
    }
    // Another port of localhost is another server: a host as listed.
    expect(
      outgoingRefusal(service(['localhost:9000']), FROM, new URL('http://localhost:9000/svc/hello/')),
    ).toBeUndefined();
    // A service listed is not a host listed: another origin's /svc/ path is still a host's.
    expect(outgoingRefusal(service(['/svc/*/']), FROM, new URL('http://evil.example/svc/hello/'))).toMatch(/not among/);
    for (const own of ['/', '/index.html', '/v2/library/x/manifests/1', '/svc', '/__berth/stdin/1', '/sw.js'])
      expect(outgoingRefusal(service(['/svc/*/']), FROM, new URL(`http://127.0.0.1:8080${own}`))).toMatch(
        /berth's own/,
      );
    // The same host on another port is another origin: a listed host, not a service.
    expect(outgoingRefusal(service(), FROM, new URL('http://127.0.0.1:9999/svc/hello/'))).toMatch(/not among/);
  });

  it('allows other hosts only when listed, by name, subdomain pattern and port', () => {
    const s = service(['api.example.com', '*.cdn.example', 'localhost:5000']);
    expect(outgoingRefusal(s, FROM, new URL('https://api.example.com/v1'))).toBeUndefined();
    expect(outgoingRefusal(s, FROM, new URL('https://evil.com/?api.example.com'))).toMatch(/not among/);
    expect(outgoingRefusal(s, FROM, new URL('https://api.example.com.evil.com/'))).toMatch(/not among/);
    expect(outgoingRefusal(s, FROM, new URL('https://a.cdn.example/x'))).toBeUndefined();
    expect(outgoingRefusal(s, FROM, new URL('https://cdn.example/x'))).toMatch(/not among/);
    expect(outgoingRefusal(s, FROM, new URL('https://xcdn.example/x'))).toMatch(/not among/);
    expect(outgoingRefusal(s, FROM, new URL('http://localhost:5000/'))).toBeUndefined();
    expect(outgoingRefusal(s, FROM, new URL('http://localhost:5001/'))).toMatch(/not among/);
    expect(outgoingRefusal(s, FROM, new URL('ftp://api.example.com/'))).toMatch(/not allowed/);
    expect(outgoingRefusal(service(), FROM, new URL('https://api.example.com/'))).toMatch(/not among/);
  });

  it('matches default ports and IPv6 literals', () => {
    expect(hostMatches('example.com:443', new URL('https://example.com/'))).toBe(true);
    expect(hostMatches('example.com:80', new URL('https://example.com/'))).toBe(false);
    expect(hostMatches('[::1]:8080', new URL('http://[::1]:8080/'))).toBe(true);
  });

  it('checks host patterns as users and seeds give them', () => {
    expect(
      checkOutgoingHosts(['example.com', '*.example.com', 'localhost:8080', '[::1]:80', '/svc/notes/', '/svc/*/']),
    ).toHaveLength(6);
    for (const bad of [
      'http://example.com',
      'example.com/path',
      '*',
      'a b',
      'ex*ample.com',
      '',
      7,
      '/svc/',
      '/svc/../x/',
      '/svc/A/',
      '/v2/',
    ])
      expect(() => checkOutgoingHosts([bad])).toThrow(/not a host name/);
    expect(() => checkOutgoingHosts('example.com')).toThrow(/a list/);
  });
});
