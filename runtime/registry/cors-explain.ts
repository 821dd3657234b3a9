// Why a page could not reach a registry (or its token service) directly, said from the CORS headers
// its responses carry, as berth's registry proxy forwarded them: the browser tells scripts only that
// a cross-origin request failed, never why.

/** The CORS headers of one host's response, as seen through the proxy. */
export interface CorsSeen {
  host: string;
  allowOrigin: string | null;
  allowHeaders: string | null;
}

export function corsSeen(host: string, headers: Headers): CorsSeen {
  return {
    host,
    allowOrigin: headers.get('access-control-allow-origin'),
    allowHeaders: headers.get('access-control-allow-headers'),
  };
}

/**
 * A sentence on what the registry's CORS refused, for a page at `origin` that sends Accept (and
 * Authorization when `withCredentials`): the first host whose headers do not allow it.
 */
export function explainCors(seen: CorsSeen[], origin: string, withCredentials: boolean): string {
  for (const s of seen) {
    if (!s.allowOrigin) return `${s.host} sends no CORS headers (no Access-Control-Allow-Origin)`;
    if (s.allowOrigin !== '*' && s.allowOrigin !== origin)
      return `${s.host} allows cross-origin requests only from ${s.allowOrigin}`;
    const allowed = (s.allowHeaders ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const wanted = withCredentials ? ['accept', 'authorization'] : ['accept'];
    const missing = wanted.filter((h) => !allowed.includes(h) && !allowed.includes('*'));
    if (missing.length) {
      const names = missing.map((h) => (h === 'accept' ? 'Accept' : 'Authorization')).join(' and ');
      return `${s.host}'s CORS headers do not allow the ${names} header${missing.length > 1 ? 's' : ''} berth sends (Access-Control-Allow-Headers: ${s.allowHeaders ?? 'none'})`;
    }
  }
  return seen.length
    ? `the browser refused a cross-origin request to ${seen.map((s) => s.host).join(' or ')} although its CORS headers look allowed (a preflight, a redirect or an error answer without them)`
    : 'the registry could not be reached directly';
}
