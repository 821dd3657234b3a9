// The registry proxy: `/registry/<host>/<path>` is forwarded to `<scheme>://<host>/<path>`, bodies
// streamed, for registries (and their token endpoints) that send no CORS headers. It is a pull-only
// door for berth's own pages, not an open relay (see README, "Security"):
// - only GET and HEAD, only the Distribution API (`/v2/...`), and a token endpoint only when a
//   registry it forwarded to named it as its Bearer realm;
// - only from berth's own pages: `Sec-Fetch-Site: same-origin`, an `Origin` (if sent) equal to the
//   server's, and a `Host` that is an IP literal or `localhost` (a DNS name could be rebound);
// - redirects are followed here, hop by hop: never to a private, loopback or link-local address
//   unless that is the host the page asked for, never to plain http unless the host is loopback or
//   marked insecure, and credentials are not carried to another host.
// Plain http only for loopback hosts and hosts the user marks insecure.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Context } from 'hono';

export const DOCKER_HUB_API = 'registry-1.docker.io';
const MAX_REDIRECTS = 5;
const MAX_REALMS = 64;

export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** `host[:port]` or `[v6]:port` -> the bare name or address. */
function hostName(host: string): string {
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
}

export function upstreamUrl(host: string, rest: string, search: string, insecure: ReadonlySet<string>): string {
  const target = host === 'docker.io' ? DOCKER_HUB_API : host;
  const scheme = isLoopbackHost(target) || insecure.has(target) ? 'http' : 'https';
  return `${scheme}://${target}/${rest}${search}`;
}

/** Whether `ip` is loopback, private, link-local, shared, unspecified or multicast (v4 or v6). */
export function isPrivateAddress(ip: string): boolean {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      a >= 224 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const v6 = ip.toLowerCase();
  return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith('ff');
}

/** Addresses a host name stands for (itself when it is an IP literal). */
async function addressesOf(name: string): Promise<string[]> {
  if (isIP(name)) return [name];
  if (name === 'localhost') return ['127.0.0.1'];
  return (await lookup(name, { all: true })).map((a) => a.address);
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/;

/** Whether a host name stands for a private, loopback or link-local address (unresolvable: no). */
async function isPrivateHost(hostname: string, isPrivate: (ip: string) => boolean): Promise<boolean> {
  const addresses = await addressesOf(hostname.replace(/^\[|\]$/g, '')).catch(() => [] as string[]);
  return addresses.some(isPrivate);
}

export interface RegistryProxyOptions {
  /** Registries (host[:port]) the proxy may reach over plain http. */
  insecure: ReadonlySet<string>;
  /** Names besides IP literals and `localhost` that this server may be reached by (Host header). */
  serverNames?: readonly string[];
  /** Which addresses count as private (default isPrivateAddress; tests stand a loopback address in for a public one). */
  isPrivate?: (ip: string) => boolean;
}

/**
 * Why a request's Host may not reach what this server keeps (the proxy, the store's services), or
 * undefined: an IP address, localhost, or a name the server was told. A DNS name of another site
 * that resolves here (DNS rebinding) makes that site's pages same-origin with this server.
 */
export function hostRefusal(url: URL, serverNames?: readonly string[]): string | undefined {
  // DNS names are the same in any case and with a final dot (the URL has lowercased the host).
  const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');
  const name = bare(url.hostname.replace(/^\[|\]$/g, ''));
  if (isIP(name) || name === 'localhost' || serverNames?.some((n) => bare(n) === name)) return undefined;
  return `this server is not known as ${url.hostname} (a DNS name pointing here could be rebound; use an IP address or localhost)`;
}

/**
 * hostRefusal for a request: of the URL it was given, and of its Host header where that says
 * otherwise (a request in absolute form, `GET http://127.0.0.1/`, gets its URL from the target).
 */
export function requestHostRefusal(req: Request, serverNames?: readonly string[]): string | undefined {
  const url = new URL(req.url);
  const header = req.headers.get('host');
  let named: URL | undefined;
  if (header !== null && header !== url.host) {
    try {
      named = new URL(`http://${header}/`);
    } catch {
      return `this server is not known as ${JSON.stringify(header)} (not a host)`;
    }
  }
  return hostRefusal(url, serverNames) ?? (named && hostRefusal(named, serverNames));
}

/** Why a request may not use the proxy, or undefined. */
export function proxyRefusal(
  req: Request,
  options: Pick<RegistryProxyOptions, 'serverNames'> = {},
): string | undefined {
  const url = new URL(req.url);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return `only GET and HEAD are forwarded (pulls), not ${req.method}`;
  const host = requestHostRefusal(req, options.serverNames);
  if (host) return host;
  // berth's pages ask with fetch(): a page, frame or script load would show what a registry sent
  // as a document of berth's origin.
  const dest = req.headers.get('sec-fetch-dest');
  if (dest !== null && dest !== 'empty')
    return `the registry proxy answers berth's own requests only, not a ${dest} load`;
  const site = req.headers.get('sec-fetch-site');
  if (site !== 'same-origin')
    return `only berth's own pages may use the registry proxy (Sec-Fetch-Site: ${site ?? 'absent'})`;
  const origin = req.headers.get('origin');
  if (origin !== null && origin !== url.origin)
    return `only berth's own pages may use the registry proxy (Origin: ${origin})`;
  return undefined;
}

/** The Bearer realm a 401 names, as origin + path, or undefined. */
export function bearerRealm(wwwAuthenticate: string | null): string | undefined {
  const m = wwwAuthenticate && /^\s*Bearer\s.*?\brealm="([^"]+)"/i.exec(wwwAuthenticate);
  if (!m) return undefined;
  try {
    const u = new URL(m[1]);
    return u.protocol === 'https:' || u.protocol === 'http:' ? `${u.origin}${u.pathname}` : undefined;
  } catch {
    return undefined;
  }
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
];

export function registryProxyHandler(options: RegistryProxyOptions) {
  /**
   * Token endpoints registries named in their challenges (origin + path), and whether the registry
   * that named it was itself private (loopback or a private network): a public registry may not
   * point the proxy at a private address.
   */
  const realms = new Map<string, { namedByPrivate: boolean }>();
  const refuse = (c: Context, why: string) => c.text(`registry proxy: ${why}\n`, 403);
  const isPrivate = options.isPrivate ?? isPrivateAddress;
  return async (c: Context) => {
    const url = new URL(c.req.url);
    const m = /^\/registry\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (!m || !HOST.test(m[1])) return c.text('registry proxy: expected /registry/<host>/<path>\n', 400);
    const refusal = proxyRefusal(c.req.raw, options);
    if (refusal) return refuse(c, refusal);
    const asked = m[1] === 'docker.io' ? DOCKER_HUB_API : m[1];
    const target = new URL(upstreamUrl(m[1], m[2], url.search, options.insecure));
    const realm = /^v2(\/|$)/.test(m[2]) ? undefined : realms.get(`${target.origin}${target.pathname}`);
    if (!/^v2(\/|$)/.test(m[2])) {
      if (!realm) {
        return refuse(
          c,
          `only the Distribution API (/v2/...) and the token endpoints registries name are forwarded, not /${m[2]}`,
        );
      }
      if (!realm.namedByPrivate && (await isPrivateHost(target.hostname, isPrivate))) {
        return refuse(c, `a public registry named ${target.host}, a private address, as its token endpoint`);
      }
    }
    const headers = new Headers();
    for (const name of ['accept', 'authorization', 'range', 'if-none-match', 'user-agent']) {
      const v = c.req.header(name);
      if (v !== undefined) headers.set(name, v);
    }
    let res: Response;
    try {
      res = await followSafely(target, asked, c.req.method, headers, options.insecure, isPrivate);
    } catch (e) {
      if (e instanceof ProxyRefusal) return refuse(c, e.message);
      return c.text(
        `registry proxy: cannot reach ${target.href}: ${(e as Error).cause ?? (e as Error).message}\n`,
        502,
      );
    }
    const named = res.status === 401 ? bearerRealm(res.headers.get('www-authenticate')) : undefined;
    if (named) {
      if (realms.size >= MAX_REALMS) realms.delete(realms.keys().next().value as string);
      realms.set(named, { namedByPrivate: await isPrivateHost(target.hostname, isPrivate) });
    }
    const out = new Headers(res.headers);
    for (const h of [...HOP_BY_HOP, 'set-cookie', 'set-cookie2', 'clear-site-data', 'service-worker-allowed'])
      out.delete(h);
    // Never a document of berth's origin, never sniffed into one.
    out.set('content-security-policy', 'sandbox');
    out.set('x-content-type-options', 'nosniff');
    // fetch decoded a compressed body: the length and encoding no longer describe it.
    if (out.has('content-encoding')) {
      out.delete('content-encoding');
      out.delete('content-length');
    }
    return new Response(c.req.method === 'HEAD' ? null : res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: out,
    });
  };
}

class ProxyRefusal extends Error {}

/** Fetches `target`, following redirects only where they are safe (see the header comment). */
async function followSafely(
  target: URL,
  asked: string,
  method: string,
  headers: Headers,
  insecure: ReadonlySet<string>,
  isPrivate: (ip: string) => boolean,
): Promise<Response> {
  let url = target;
  for (let hop = 0; ; hop++) {
    if (url.host !== asked) {
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && insecure.has(url.host))) {
        throw new ProxyRefusal(
          `a redirect to ${url.origin} is refused: only https leaves the registry the page asked for`,
        );
      }
      const addresses = await addressesOf(url.hostname.replace(/^\[|\]$/g, ''));
      if (addresses.some(isPrivate)) {
        throw new ProxyRefusal(
          `a redirect to ${url.host} (${addresses.join(', ')}) is refused: it is a private or loopback address the page did not ask for`,
        );
      }
    }
    const res = await fetch(url, { method, headers, redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || res.status === 304 || !location) return res;
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new ProxyRefusal(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, url);
    // Credentials stay with the host they were meant for.
    if (next.host !== url.host) headers.delete('authorization');
    url = next;
  }
}
