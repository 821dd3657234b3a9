// Where a wasi:http handler may send requests. Berth's other services (`/svc/<name>/` on the origin
// the request came to) always; the rest of berth's origin (the app, the registry proxy, the stdin
// route) never, so a service cannot reach berth's own data; other hosts only when the service lists
// them (`outgoingHosts`), and only over http(s).
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

/** Host patterns as a user or a seed gives them, checked (RuntimeError invalid-argument). */
export function checkOutgoingHosts(hosts: unknown): string[] {
  if (!Array.isArray(hosts)) throw new RuntimeError('invalid-argument', 'outgoing hosts must be a list');
  for (const h of hosts) {
    if (typeof h !== 'string' || !HOST_PATTERN.test(h))
      throw new RuntimeError(
        'invalid-argument',
        `outgoing host ${JSON.stringify(h)} is not a host name (example.com, *.example.com, host:port)`,
      );
  }
  return hosts as string[];
}

/** The reason `url` may not be fetched by `service`, answering a request that came to `requestUrl`. */
export function outgoingRefusal(service: ServiceRecord, requestUrl: string, url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} requests are not allowed`;
  const own = new URL(requestUrl);
  if (url.origin === own.origin) {
    const target = /^\/svc\/([^/]+)(\/|$)/.exec(url.pathname)?.[1];
    if (!target) return `${url.pathname} is berth's own, not a service's`;
    if (decodeURIComponent(target) === service.name) return `a service may not call itself (${service.name})`;
    return undefined;
  }
  if ((service.outgoingHosts ?? []).some((h) => hostMatches(h, url))) return undefined;
  return `${url.host} is not among the hosts service ${service.name} may call`;
}
