// The registry proxy: `/registry/<host>/<path>` is forwarded to `<scheme>://<host>/<path>`, bodies
// streamed both ways, for registries (and their token endpoints) that send no CORS headers.
// Plain http only for loopback hosts and hosts the user marks insecure.
import { proxy } from 'hono/proxy';
import type { Context } from 'hono';

export const DOCKER_HUB_API = 'registry-1.docker.io';

export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export function upstreamUrl(host: string, rest: string, search: string, insecure: ReadonlySet<string>): string {
  const target = host === 'docker.io' ? DOCKER_HUB_API : host;
  const scheme = isLoopbackHost(target) || insecure.has(target) ? 'http' : 'https';
  return `${scheme}://${target}/${rest}${search}`;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/;

export function registryProxyHandler(insecure: ReadonlySet<string>) {
  return async (c: Context) => {
    const url = new URL(c.req.url);
    const m = /^\/registry\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (!m || !HOST.test(m[1])) return c.text('registry proxy: expected /registry/<host>/<path>\n', 400);
    const target = upstreamUrl(m[1], m[2], url.search, insecure);
    const headers = new Headers(c.req.raw.headers);
    headers.delete('host');
    headers.delete('origin');
    headers.delete('referer');
    headers.delete('cookie');
    try {
      const res = await proxy(target, {
        method: c.req.method,
        headers,
        body: c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : c.req.raw.body,
        duplex: 'half',
        redirect: 'follow',
      } as RequestInit);
      res.headers.delete('set-cookie');
      return res;
    } catch (e) {
      return c.text(`registry proxy: cannot reach ${target}: ${(e as Error).cause ?? (e as Error).message}\n`, 502);
    }
  };
}
