// Where a wasi:http handler may send requests: only where the service lists (`outgoingHosts`), so
// the user says (the service form, `--allow-host`, a link's dialog shows them). Other hosts by name
// or pattern, over http(s). Berth's other services (`/svc/<name>/` on the origin the request came
// to) as `/svc/<name>/`, or all of them with a star for the name: each is the user's data behind its own API,
// as another site's would be (before, any handler could call every service, a hostile one from a
// link could DELETE through the user's notes service and read the answers). The rest of berth's
// origin (the app, the registry route, the stdin route) never, so a service cannot reach berth's
// own data.
import { RuntimeError } from '../core/index.ts';
import type { ServiceRecord } from './service-record.ts';

/** A host pattern: `example.com`, `*.example.com` (subdomains only), with an optional `:port`. */
export function hostMatches(pattern: string, url: URL): boolean {
  const p = pattern.toLowerCase();
  const [name, port] = p.startsWith('[') ? [p.slice(0, p.indexOf(']') + 1), p.split(']:')[1]] : p.split(':');
  if (port !== undefined && port !== (url.port || (url.protocol === 'https:' ? '443' : '80'))) return false;
  if (name.startsWith('*.')) return url.hostname.endsWith(name.slice(1)) && url.hostname.length > name.length - 1;
  return url.hostname === name;
}

const HOST_PATTERN = /^(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/i;
/** `/svc/<name>/` (the last slash may be left out), with a star for the name: every service. */
const SERVICE_PATTERN = /^\/svc\/(\*|[a-z0-9][a-z0-9._-]{0,62})\/?$/;

/** Whether `patterns` let a service call berth's service `target`. */
function listsService(patterns: readonly string[], target: string): boolean {
  return patterns.some((p) => {
    const m = SERVICE_PATTERN.exec(p);
    return m !== null && (m[1] === '*' || m[1] === target);
  });
}

/** Host patterns as a user or a seed gives them, checked (RuntimeError invalid-argument). */
export function checkOutgoingHosts(hosts: unknown): string[] {
  if (!Array.isArray(hosts)) throw new RuntimeError('invalid-argument', 'outgoing hosts must be a list');
  for (const h of hosts) {
    if (typeof h !== 'string' || !(HOST_PATTERN.test(h) || SERVICE_PATTERN.test(h)))
      throw new RuntimeError(
        'invalid-argument',
        `outgoing host ${JSON.stringify(h)} is not a host name (example.com, *.example.com, host:port) or a service (/svc/NAME/, /svc/*/)`,
      );
  }
  return hosts as string[];
}

const portOf = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0|\[::\])$/i;

/**
 * Whether `url` is the server the request came to: its origin, or a loopback name on the same
 * port (berth serve answers `localhost:5173` as it answers `127.0.0.1:5173`, and a handler's fetch
 * from Node reaches it over the network: a host pattern `localhost` was a way around the services
 * rule below).
 */
function sameServer(url: URL, own: URL): boolean {
  if (url.origin === own.origin) return true;
  return url.protocol === own.protocol && portOf(url) === portOf(own) && LOOPBACK.test(url.hostname);
}

/** The reason `url` may not be fetched by `service`, answering a request that came to `requestUrl`. */
export function outgoingRefusal(service: ServiceRecord, requestUrl: string, url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} requests are not allowed`;
  const own = new URL(requestUrl);
  if (sameServer(url, own)) {
    const target = /^\/svc\/([^/]+)(\/|$)/.exec(url.pathname)?.[1];
    if (!target) return `${url.pathname} is berth's own, not a service's`;
    const name = decodeURIComponent(target);
    if (name === service.name) return `a service may not call itself (${service.name})`;
    if (listsService(service.outgoingHosts ?? [], name)) return undefined;
    return `service ${service.name} may not call service ${name} (list /svc/${name}/ among its outgoing hosts)`;
  }
  if ((service.outgoingHosts ?? []).some((h) => hostMatches(h, url))) return undefined;
  return `${url.host} is not among the hosts service ${service.name} may call`;
}
