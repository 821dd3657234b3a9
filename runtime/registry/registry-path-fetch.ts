// In a page a Service Worker controls, registry requests go to the SW: `https://<host>/<path>`
// becomes `<base>/registry/<host>/<path>`, the SW's registry route (sw/registry-route.ts), which
// answers from the content store, the registry, or berth serve's proxy, and says which in
// `X-Berth-Registry-Route`. `routes` keeps, per registry host, the routes its answers took, `log`
// each request's path and route, and `cors` the CORS headers of the first answer from each host that
// went through the proxy (what the browser refused, said by explainCors).
import { corsSeen, type CorsSeen } from './cors-explain.ts';

export function registryPathFetch(
  base: string,
  fetchFn: typeof fetch = (i, n) => fetch(i, n),
): typeof fetch & {
  routes: Map<string, Set<string>>;
  log: { path: string; route: string }[];
  cors: Map<string, CorsSeen>;
} {
  const routes = new Map<string, Set<string>>();
  const log: { path: string; route: string }[] = [];
  const cors = new Map<string, CorsSeen>();
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const res = await fetchFn(`${base.replace(/\/$/, '')}/registry/${url.host}${url.pathname}${url.search}`, init);
    // The SW hands a blob fetched from the registry on as it came, without the header: its URL is
    // then the registry's, not berth's.
    const route =
      res.headers.get('x-berth-registry-route') ??
      (res.url && new URL(res.url).origin !== new URL(base).origin ? 'direct' : null);
    if (route) {
      if (!routes.has(url.host)) routes.set(url.host, new Set());
      routes.get(url.host)!.add(route);
      log.push({ path: url.pathname, route });
      if (route === 'proxy' && !cors.has(url.host)) cors.set(url.host, corsSeen(url.host, res.headers));
    }
    return res;
  }) as typeof fetch & {
    routes: Map<string, Set<string>>;
    log: { path: string; route: string }[];
    cors: Map<string, CorsSeen>;
  };
  f.routes = routes;
  f.log = log;
  f.cors = cors;
  return f;
}
