// In a browser, a registry (or its token service) that sends no CORS headers — or fails the
// preflight an Authorization header causes — cannot be fetched directly. This fetch tries the
// registry directly first and, on a network-level failure (how a CORS refusal shows), switches
// that host to berth's registry proxy `/registry/<host>/<path>` for the rest of the session.
export function corsFallbackFetch(
  proxyBase: string,
  fetchFn: typeof fetch = (i, n) => fetch(i, n),
): typeof fetch & { proxied: Set<string> } {
  const proxied = new Set<string>();
  const viaProxy = (url: URL) => `${proxyBase.replace(/\/$/, '')}/registry/${url.host}${url.pathname}${url.search}`;
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!proxied.has(url.host)) {
      try {
        return await fetchFn(input, init);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
        proxied.add(url.host);
      }
    }
    return fetchFn(viaProxy(url), init);
  }) as typeof fetch & { proxied: Set<string> };
  f.proxied = proxied;
  return f;
}
