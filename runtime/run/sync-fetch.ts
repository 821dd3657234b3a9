// A blocking fetch for wasi:http handlers' outgoing requests in a dedicated worker: synchronous
// XMLHttpRequest (allowed in workers, with binary bodies, unlike in a window). A request from the
// worker to /svc/<other>/ on berth's origin goes through the Service Worker that controls the page,
// so services call each other without the network, offline too.
//
// Trap: XHR follows redirects by itself (there is no way to stop it): the final URL is judged by
// the service's policy afterwards and the answer refused, but the request has reached it.
// Trap: XHR refuses to set "forbidden" request headers (Host, Content-Length, Cookie, Origin, ...);
// they are left out rather than failing the request.
import { fetchWaitMs, HttpFetchError, type FetchRequest, type FetchResponse } from '../component/index.ts';

const FORBIDDEN =
  /^(accept-charset|accept-encoding|access-control-request-headers|access-control-request-method|connection|content-length|cookie|cookie2|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via|proxy-.*|sec-.*)$/i;

export function xhrSyncFetch(request: FetchRequest): FetchResponse {
  if (typeof XMLHttpRequest !== 'function')
    throw new HttpFetchError('HTTP-request-denied', 'this environment has no synchronous fetch');
  const xhr = new XMLHttpRequest();
  try {
    // open refuses some methods (CONNECT, TRACE) and setRequestHeader bad values: error-codes, not traps.
    xhr.open(request.method, request.url, false);
    xhr.responseType = 'arraybuffer';
    // No longer than the run's deadline allows (fetchWaitMs); allowed for a synchronous request in
    // a worker only. 0 would mean no timeout.
    const wait = fetchWaitMs(request);
    if (wait !== undefined) xhr.timeout = Math.max(1, wait);
    for (const [name, value] of request.headers) if (!FORBIDDEN.test(name)) xhr.setRequestHeader(name, value);
    xhr.send(request.body as Uint8Array<ArrayBuffer> | null);
  } catch (e) {
    throw new HttpFetchError(
      'destination-unavailable',
      `fetch of ${request.url} failed: ${(e as Error)?.message ?? e}`,
    );
  }
  if (xhr.status === 0)
    throw new HttpFetchError('destination-unavailable', `fetch of ${request.url} failed (network error)`);
  const headers: [string, string][] = xhr
    .getAllResponseHeaders()
    .split('\r\n')
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()];
    });
  return {
    status: xhr.status,
    headers,
    body: new Uint8Array(xhr.response as ArrayBuffer),
    // XHR follows redirects by itself: where it ended, for the policy to judge.
    ...(xhr.responseURL ? { url: xhr.responseURL } : {}),
  };
}
