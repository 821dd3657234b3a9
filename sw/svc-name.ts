// `/svc/<name>/<rest>`: the service name of a request URL, or undefined if it is not a service URL.
export function svcName(url: URL): string | undefined {
  const m = /^\/svc\/([^/]+)(?:\/.*)?$/.exec(url.pathname);
  return m ? decodeURIComponent(m[1]) : undefined;
}
