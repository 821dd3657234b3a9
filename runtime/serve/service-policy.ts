// What berth lets a service's response do to the origin, and which requests may reach a service.
// A service is hostile by default: its pages get an opaque origin (CSP sandbox without
// allow-same-origin), so they cannot open berth's IndexedDB, caches, storage or Service Worker
// registration; headers that act on the origin are dropped whatever the service; and a request with
// an unsafe method from another site is refused unless the service opts in. A service the user
// marks `trusted` keeps the origin (a web app with its own scripts and `fetch('api')` calls).
import type { ResponseHead } from './response-parser.ts';

/**
 * The sandbox of an untrusted service's pages. Measured in Chromium 156: such a page's navigations
 * and form posts still reach the Service Worker, its subresource requests (fetch, img, script src)
 * do not (an opaque origin has no Service Worker), so an untrusted page is one document.
 */
export const SERVICE_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-downloads';

/** Response headers a service may never send: each acts on the whole origin. */
export const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'clear-site-data',
  'set-cookie',
  'set-cookie2',
  'service-worker-allowed',
  'origin-agent-cluster',
  // Where the browser reports, connects or how it keeps the origin's security, for every page of
  // it (they matter where berth serve is reached over https).
  'nel',
  'report-to',
  'reporting-endpoints',
  'strict-transport-security',
  'alt-svc',
  'accept-ch',
  'critical-ch',
  'expect-ct',
  'public-key-pins',
  'public-key-pins-report-only',
  // berth's own: a service may not claim where it ran or lift its sandbox.
  'x-berth-runner',
  'x-berth-service',
]);

export interface ServiceTrust {
  /** Pages share berth's origin (no sandbox). */
  trusted?: boolean;
}

/**
 * The headers berth sends for a service's response: the service's own, less those that act on the
 * origin (and `Link` headers that would register a Service Worker), plus berth's, which a service
 * cannot override. A service's own Content-Security-Policy stays: policies only add restrictions.
 */
export function serviceResponseHeaders(
  head: ResponseHead,
  service: ServiceTrust | undefined,
  extra: Record<string, string> = {},
): Headers {
  const headers = new Headers();
  for (const [name, value] of head.headers) {
    const n = name.toLowerCase();
    if (DROPPED_RESPONSE_HEADERS.has(n)) continue;
    if (n === 'link' && /serviceworker/i.test(value)) continue;
    headers.append(name, value);
  }
  if (!service?.trusted) headers.append('Content-Security-Policy', SERVICE_SANDBOX);
  headers.set('X-Content-Type-Options', 'nosniff');
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return headers;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface IncomingRequest {
  method: string;
  /** The request is a navigation (a top-level page, a frame, a form submission). */
  navigation: boolean;
  /** The request's `Origin` header as the Service Worker sees it, if any. */
  origin: string | null;
}

export interface CrossSitePolicy {
  /** Let other sites send unsafe methods (POST, PUT, DELETE, ...) to this service. Off by default. */
  allowCrossSite?: boolean;
}

/**
 * Why a request must not reach the service, or undefined when it may. An unsafe method is let
 * through only from berth's own origin, as private-network protections do for local servers.
 * What the Service Worker sees, measured in Chromium 156:
 * - a request that is not a navigation comes from a page this SW controls, so from berth's origin
 *   (another site's fetches go to the network, and a sandboxed page has no SW); the browser adds
 *   its `Origin` header only after the SW, so it is absent here;
 * - a navigation (a form post) carries `Origin`: berth's own, another site's, or `null` from any
 *   sandboxed page (berth's untrusted service pages and another site's sandboxed frames alike,
 *   with no referrer to tell them apart), so only berth's own passes. `Sec-Fetch-*` headers are
 *   added after the SW too. A service whose pages post forms to it is marked trusted (same origin)
 *   or allowCrossSite.
 */
export function crossSiteRefusal(
  req: IncomingRequest,
  ownOrigin: string,
  service: CrossSitePolicy | undefined,
): string | undefined {
  if (SAFE_METHODS.has(req.method.toUpperCase()) || service?.allowCrossSite) return undefined;
  if (!req.navigation || req.origin === ownOrigin) return undefined;
  return `a ${req.method} from another site (${req.origin ?? 'no Origin'}) may not reach this service`;
}

/**
 * What of a request's headers a service is given. `Cookie` never: no service can set one (berth
 * drops Set-Cookie), so any cookie is another program's of the same host (cookies are not kept
 * apart by port: `berth serve` on localhost received every localhost app's). `Proxy` never either:
 * as the CGI variable HTTP_PROXY it would set a program's proxy ("httpoxy").
 */
export function serviceRequestHeaders(headers: [string, string][]): [string, string][] {
  return headers.filter(([k]) => !DROPPED_REQUEST_HEADERS.has(k.toLowerCase()));
}
const DROPPED_REQUEST_HEADERS = new Set(['cookie', 'cookie2', 'proxy']);
