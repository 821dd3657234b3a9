// The Service Worker owns the page's registry path: the page asks for `/registry/<host>/<path>`
// (the URL space of berth serve's registry proxy) and this route answers
// - a blob or a manifest by digest from the verified content store when it is there (immutable, so
//   no network and no re-verification: re-pulling a tag whose layers are cached costs one manifest
//   request);
// - anything else from the registry directly where CORS allows, else through the network to
//   berth serve's proxy;
// - offline, a manifest by tag from the image stored under that reference, so a pull of cached
//   content still succeeds.
// Each answer says where it came from in `X-Berth-Registry-Route` (store, direct, proxy, offline).
import { isDigest, type Digest } from '../runtime/core/index.ts';
import { ImageStore } from '../runtime/images/index.ts';
import { swRunContext } from './sw-context.ts';

const BY_DIGEST = /^v2\/(.+)\/(blobs|manifests)\/(sha256:[a-f0-9]{64})$/;
const BY_TAG = /^v2\/(.+)\/manifests\/([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;
const FORWARDED = ['accept', 'authorization', 'range'];
/** On every answer the route makes: never a document of berth's origin, never sniffed into one. */
const ANSWER_HEADERS = { 'Content-Security-Policy': 'sandbox', 'X-Content-Type-Options': 'nosniff' };

export type RegistryRoute = 'store' | 'direct' | 'proxy' | 'offline';

/** `/registry/<host>/<rest>` of a URL, or undefined. */
export function registryPath(url: URL): { host: string; rest: string } | undefined {
  const m = /^\/registry\/([^/]+)\/(.*)$/.exec(url.pathname);
  return m ? { host: decodeURIComponent(m[1]), rest: m[2] + url.search } : undefined;
}

function withRoute(res: Response, route: RegistryRoute): Response {
  const headers = new Headers(res.headers);
  headers.set('X-Berth-Registry-Route', route);
  for (const [k, v] of Object.entries(ANSWER_HEADERS)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

async function fromStore(digest: Digest, manifest: boolean, head: boolean, route: RegistryRoute) {
  const ctx = await swRunContext();
  const blob = await ctx.content.get(digest);
  if (!blob) return undefined;
  let type = 'application/octet-stream';
  if (manifest) {
    const parsed = JSON.parse(await blob.text()) as { mediaType?: unknown };
    if (typeof parsed.mediaType !== 'string') return undefined; // let the registry say
    type = parsed.mediaType;
  }
  const headers = {
    'Content-Type': type,
    'Content-Length': String(blob.size),
    'Docker-Content-Digest': digest,
    'X-Berth-Registry-Route': route,
    ...ANSWER_HEADERS,
  };
  return new Response(head ? null : blob, { status: 200, headers });
}

/**
 * The route serves berth's own code, which asks with fetch() (destination ''). Anything else is
 * refused: a navigation (a link, a service's redirect) would show whatever the host at `<host>`
 * answers as a document of berth's origin, with berth's storage, and a script or frame would run it.
 */
export function registryRefusal(req: { mode: string; destination: string }): Response | undefined {
  if (req.mode !== 'navigate' && req.destination === '') return undefined;
  return new Response("berth's registry route answers berth's own requests only, not a page, frame or script load\n", {
    status: 403,
    headers: { ...ANSWER_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}

export async function handleRegistry(event: FetchEvent, path: { host: string; rest: string }): Promise<Response> {
  const req = event.request;
  const refused = registryRefusal(req);
  if (refused) return refused;
  const head = req.method === 'HEAD';
  const byDigest = BY_DIGEST.exec(path.rest);
  if ((req.method === 'GET' || head) && byDigest && isDigest(byDigest[3])) {
    const hit = await fromStore(byDigest[3], byDigest[2] === 'manifests', head, 'store');
    if (hit) return hit;
  }
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(path.host);
  const upstream = `${loopback ? 'http' : 'https'}://${path.host}/${path.rest}`;
  const headers = new Headers();
  for (const h of FORWARDED) {
    const v = req.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  try {
    const res = await fetch(upstream, { method: req.method, headers });
    // A blob's body goes to the page untouched: a Response made around it (for the route header)
    // made this thread pump every byte, 0.66 s of it during a 50 MB pull on 2 cores. The page
    // reads the route from the response's URL instead (registry-path-fetch.ts).
    if (byDigest?.[2] === 'blobs' && res.ok) return res;
    return withRoute(res, 'direct');
  } catch {
    // No CORS (or no network): berth serve's proxy, through the network.
  }
  try {
    return withRoute(await fetch(req), 'proxy');
  } catch (e) {
    const byTag = BY_TAG.exec(path.rest);
    if ((req.method === 'GET' || head) && byTag) {
      const ctx = await swRunContext();
      // References name Docker Hub as docker.io; its API host is registry-1.docker.io.
      const registry = path.host === 'registry-1.docker.io' ? 'docker.io' : path.host;
      const image = await new ImageStore(ctx).get(`${registry}/${byTag[1]}:${byTag[2]}`);
      const stored = image && (await fromStore(image.digest, true, head, 'offline'));
      if (stored) return stored;
    }
    throw e;
  }
}
