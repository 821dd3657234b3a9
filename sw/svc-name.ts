// `/svc/<name>/<rest>`: the service name of a request URL, or undefined if it is not a service URL.
// A name that is not valid percent-encoding is returned as it stands (no service has such a name,
// so the request gets the SW's 404 page rather than going to the network).
export function svcName(url: URL): string | undefined {
  const m = /^\/svc\/([^/]+)(?:\/.*)?$/.exec(url.pathname);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}
