import { describe, expect, it } from 'vitest';
import { crossSiteRefusal, SERVICE_SANDBOX, serviceResponseHeaders, type IncomingRequest } from './service-policy.ts';

const OWN = 'http://127.0.0.1:5173';
const head = (headers: [string, string][]) => ({ status: 200, statusText: 'OK', headers });

describe('serviceResponseHeaders', () => {
  it('drops headers that act on the origin, whatever their case', () => {
    const h = serviceResponseHeaders(
      head([
        ['Clear-Site-Data', '"*"'],
        ['set-cookie', 'a=1'],
        ['Service-Worker-Allowed', '/'],
        ['Origin-Agent-Cluster', '?0'],
        ['Link', '</sw.js>; rel="serviceworker"'],
        ['Link', '</style.css>; rel=preload'],
        ['Content-Type', 'text/html'],
      ]),
      undefined,
    );
    expect(h.get('clear-site-data')).toBeNull();
    expect(h.get('set-cookie')).toBeNull();
    expect(h.get('service-worker-allowed')).toBeNull();
    expect(h.get('origin-agent-cluster')).toBeNull();
    expect(h.get('link')).toBe('</style.css>; rel=preload');
    expect(h.get('content-type')).toBe('text/html');
  });

  it("drops what sets where the browser reports or connects, or the origin's transport security (trusted too)", () => {
    const names = [
      'NEL',
      'Report-To',
      'Reporting-Endpoints',
      'Strict-Transport-Security',
      'Alt-Svc',
      'Accept-CH',
      'Critical-CH',
      'Expect-CT',
      'Public-Key-Pins',
    ];
    for (const trusted of [false, true]) {
      const h = serviceResponseHeaders(head([...names.map((n) => [n, 'x'] as [string, string]), ['X-Kept', '1']]), {
        trusted,
      });
      for (const n of names) expect(h.get(n), n).toBeNull();
      expect(h.get('x-kept')).toBe('1');
    }
  });

  it('sandboxes untrusted pages without allow-same-origin, and keeps the service CSP beside it', () => {
    const h = serviceResponseHeaders(head([['Content-Security-Policy', "default-src 'self'"]]), { trusted: false });
    const csp = h.get('content-security-policy') ?? '';
    expect(csp).toContain(SERVICE_SANDBOX);
    expect(csp).toContain("default-src 'self'");
    expect(SERVICE_SANDBOX).not.toContain('allow-same-origin');
  });

  it('leaves trusted pages in the origin', () => {
    expect(serviceResponseHeaders(head([]), { trusted: true }).get('content-security-policy')).toBeNull();
  });

  it("berth's own headers cannot be set by a service", () => {
    const h = serviceResponseHeaders(
      head([
        ['X-Berth-Runner', 'forged'],
        ['X-Content-Type-Options', 'off'],
      ]),
      undefined,
      { 'X-Berth-Runner': 'worker' },
    );
    expect(h.get('x-berth-runner')).toBe('worker');
    expect(h.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('crossSiteRefusal', () => {
  const nav = (r: Partial<IncomingRequest>): IncomingRequest => ({
    method: 'POST',
    navigation: true,
    origin: 'https://evil.example',
    ...r,
  });

  it('refuses unsafe navigations from another origin, a sandboxed page (Origin: null) or none', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
      expect(crossSiteRefusal(nav({ method }), OWN, undefined)).toMatch(/another site/);
    expect(crossSiteRefusal(nav({ origin: 'http://127.0.0.1:8080' }), OWN, undefined)).toBeDefined();
    expect(crossSiteRefusal(nav({ origin: 'null' }), OWN, undefined)).toBe(
      'a POST from another site (null) may not reach this service',
    );
    expect(crossSiteRefusal(nav({ origin: null }), OWN, undefined)).toBeDefined();
  });

  it("lets safe methods, berth's own pages and opted-in services through", () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get'])
      expect(crossSiteRefusal(nav({ method }), OWN, undefined)).toBeUndefined();
    expect(crossSiteRefusal(nav({ origin: OWN }), OWN, undefined)).toBeUndefined();
    // A fetch reaches the SW only from a page it controls: berth's origin (Origin is added later).
    expect(crossSiteRefusal(nav({ navigation: false, origin: null }), OWN, undefined)).toBeUndefined();
    expect(crossSiteRefusal(nav({ origin: 'null' }), OWN, { allowCrossSite: true })).toBeUndefined();
  });
});
