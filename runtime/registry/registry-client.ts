// A client of the OCI Distribution API: manifests and blobs by tag or digest, pushes, with the
// auth flows registries use (anonymous or credentialed bearer tokens, basic), token reuse until
// expiry, retries with backoff on 429/5xx and dropped connections, and blob downloads that resume
// with `Range` where they were cut off.
import { MediaType, mediaTypesOf, RuntimeError, sha256, type Descriptor, type Digest } from '../core/index.ts';
import { parseAuthChallenge, type AuthChallenge } from './auth-challenge.ts';
import { isLoopbackRegistry, referenceTarget, registryApiHost, type Reference } from './reference.ts';
import { registryError, RegistryError } from './registry-error.ts';
import { DEFAULT_REGISTRY_TIMEOUTS, readCapped, timedFetch, type RegistryTimeouts } from './registry-fetch.ts';

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  fetch?: typeof fetch;
  /** Credentials for a registry (as named in references, e.g. `docker.io`, `localhost:5000`). */
  credentials?: (registry: string) => Credentials | undefined;
  /** Registries reached over plain http; loopback registries always are. */
  insecureRegistries?: readonly string[];
  /** Rewrites each URL before it is fetched (the browser's registry proxy). */
  rewriteUrl?: (url: string) => string;
  /** Retries after a 429, a 5xx or a dropped connection. Default 4. */
  retries?: number;
  /** First backoff delay in ms, doubled each retry. Default 250. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** How long a registry may keep a request waiting (registry-fetch.ts). */
  timeouts?: Partial<RegistryTimeouts>;
}

export interface BlobProgress {
  done: number;
  total: number;
}

/** Bytes of a blob read ahead of its consumer. */
const READ_AHEAD = 2 << 20;

/** Every manifest and index type of core's media-type table. */
export const MANIFEST_ACCEPT = mediaTypesOf('manifest', 'index').join(', ');

interface Token {
  value: string;
  expires: number;
}

type Action = 'pull' | 'push,pull';

export class RegistryClient {
  private readonly fetchFn: typeof fetch;
  private readonly tokens = new Map<string, Token>();
  private readonly basic = new Set<string>();
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeouts: RegistryTimeouts;

  constructor(private readonly options: RegistryClientOptions = {}) {
    const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeouts = { ...DEFAULT_REGISTRY_TIMEOUTS, ...options.timeouts };
    this.fetchFn = (input, init) => timedFetch(fetchFn, String(input), init ?? {}, this.timeouts);
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  baseUrl(registry: string): string {
    const host = registryApiHost(registry);
    const insecure =
      isLoopbackRegistry(host) ||
      (this.options.insecureRegistries ?? []).includes(registry) ||
      (this.options.insecureRegistries ?? []).includes(host);
    return `${insecure ? 'http' : 'https'}://${host}`;
  }

  /** The manifest or index a reference names, verified against the digest when there is one. */
  async getManifest(
    ref: Reference,
    target: string = referenceTarget(ref),
  ): Promise<{ bytes: Uint8Array; mediaType: string; digest: Digest }> {
    const what = `manifest ${ref.registry}/${ref.repository}:${target}`;
    const res = await this.request(
      ref,
      `/v2/${ref.repository}/manifests/${target}`,
      { headers: { Accept: MANIFEST_ACCEPT } },
      'pull',
    );
    if (!res.ok) throw await registryError(res, `fetching ${what}`);
    const bytes = await readCapped(res, MAX_MANIFEST_BYTES, what, { deadlineMs: this.timeouts.documentMs });
    const digest = await sha256(bytes);
    const expected = target.startsWith('sha256:') ? target : res.headers.get('docker-content-digest');
    if (expected?.startsWith('sha256:') && expected !== digest) {
      throw new RuntimeError(
        'data-loss',
        `${what}: the registry sent bytes hashing to ${digest}, expected ${expected}`,
      );
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim() || sniffMediaType(bytes);
    return { bytes, mediaType, digest };
  }

  /**
   * The OCI 1.1 referrers of `digest` in `ref`'s repository (distribution-spec "Listing
   * Referrers"): the referrers API, `GET /v2/<name>/referrers/<digest>`, following `Link` pages;
   * where the registry answers 404 (it has no such API, as distribution 2.8), the referrers tag
   * schema: the image index tagged `sha256-<hex>`, or none. The index's descriptors are returned
   * unchecked, with how they were found; the caller validates what it uses.
   */
  async referrers(ref: Reference, digest: Digest): Promise<{ manifests: unknown[]; via: 'api' | 'tag' }> {
    const repo: Reference = { registry: ref.registry, repository: ref.repository };
    const manifests: unknown[] = [];
    let path: string | undefined = `/v2/${ref.repository}/referrers/${digest}`;
    for (let page = 0; path && page < 16; page++) {
      const res = await this.request(repo, path, { headers: { Accept: MediaType.OciIndex } }, 'pull');
      if (res.status === 404 && page === 0) {
        await res.body?.cancel();
        const tag = `sha256-${digest.slice('sha256:'.length)}`;
        try {
          const index = await this.getManifest(repo, tag);
          return { manifests: indexManifests(index.bytes), via: 'tag' };
        } catch (e) {
          if (e instanceof RuntimeError && e.code === 'not-found') return { manifests: [], via: 'tag' };
          throw e;
        }
      }
      if (!res.ok)
        throw await registryError(res, `listing the referrers of ${digest} in ${ref.registry}/${ref.repository}`);
      const bytes = await readCapped(res, MAX_REFERRERS_PAGE, `the referrers of ${digest}`, {
        deadlineMs: this.timeouts.documentMs,
      });
      for (const m of indexManifests(bytes)) {
        // Enough for any real image; a registry listing more is flooding.
        if (manifests.length >= MAX_REFERRERS) break;
        manifests.push(m);
      }
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
      // Only the path and query of a next page are followed: never another host.
      const url: URL | undefined = next ? new URL(next, `${this.baseUrl(ref.registry)}${path}`) : undefined;
      path = url ? url.pathname + url.search : undefined;
    }
    return { manifests, via: 'api' };
  }

  /**
   * A blob as a stream. If the connection drops, the stream asks again from where it stopped
   * (`Range`), so the consumer sees one continuous body. Verification is the consumer's job.
   */
  async blobStream(
    ref: Reference,
    desc: Pick<Descriptor, 'digest' | 'size'>,
    onProgress?: (p: BlobProgress) => void,
  ): Promise<ReadableStream<Uint8Array>> {
    const path = `/v2/${ref.repository}/blobs/${desc.digest}`;
    const what = `blob ${desc.digest} of ${ref.registry}/${ref.repository}`;
    let received = 0;
    let resumes = 0;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let skip = 0;
    const open = async () => {
      const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      const res = await this.request(ref, path, { headers }, 'pull');
      if (received > 0 && res.status === 200)
        skip = received; // the server ignored Range: drop what we have
      else if (!res.ok) throw await registryError(res, `fetching ${what}`);
      if (!res.body) throw new RegistryError('unavailable', `fetching ${what}: empty response`, res.status, res.url);
      reader = res.body.getReader();
    };
    await open();
    // Reads ahead up to READ_AHEAD bytes: the network keeps going while the consumer hashes and
    // unpacks, and what arrived before a connection drops is kept (an errored body drops its queue).
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            try {
              const { value, done } = await reader!.read();
              if (done) {
                controller.close();
                return;
              }
              let chunk = value;
              if (skip > 0) {
                const drop = Math.min(skip, chunk.length);
                skip -= drop;
                chunk = chunk.subarray(drop);
                if (chunk.length === 0) continue;
              }
              received += chunk.length;
              onProgress?.({ done: received, total: desc.size });
              controller.enqueue(chunk);
              return;
            } catch (e) {
              if (resumes++ >= this.retries) {
                throw new RegistryError(
                  'unavailable',
                  `fetching ${what}: the connection dropped ${resumes} times (${String(e)})`,
                  0,
                  path,
                );
              }
              await this.sleep(this.backoff(resumes - 1));
              await open();
            }
          }
        },
        cancel: (reason) => reader?.cancel(reason),
      },
      { highWaterMark: READ_AHEAD, size: (chunk) => chunk.byteLength },
    );
  }

  /**
   * Whether the registry accepts `creds` (what `docker login` checks): GET /v2/, and on a challenge,
   * Basic auth or a token from the realm (no scope). RuntimeError 'unauthenticated' if refused.
   */
  async checkLogin(registry: string, creds: Credentials): Promise<void> {
    const url = `${this.baseUrl(registry)}/v2/`;
    const basic = `Basic ${btoa(`${creds.username}:${creds.password}`)}`;
    const refused = (status: number, where: string) =>
      new RegistryError(
        'unauthenticated',
        `${registry} refused the credentials of ${creds.username} (HTTP ${status}): a wrong user name or password?`,
        status,
        where,
      );
    let res: Response;
    try {
      res = await this.fetchFn(this.rewrite(url), {});
    } catch (e) {
      throw new RegistryError('unavailable', `cannot reach ${url}: ${String((e as Error).cause ?? e)}`, 0, url);
    }
    if (res.status !== 401 && !res.ok) throw await registryError(res, `checking the login to ${registry}`);
    await res.body?.cancel();
    if (res.ok) return;
    const challenge = parseAuthChallenge(res.headers.get('www-authenticate'));
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const realm = this.realmFor(registry, challenge);
      const t = await this.fetchFn(this.rewrite(realm.href), { headers: { Authorization: basic } });
      if (t.status === 401 || t.status === 403) throw refused(t.status, realm.href);
      if (!t.ok) throw await registryError(t, `fetching a token for ${registry}`);
      await t.body?.cancel();
      return;
    }
    const again = await this.fetchFn(this.rewrite(url), { headers: { Authorization: basic } });
    if (again.status === 401 || again.status === 403) throw refused(again.status, url);
    if (!again.ok) throw await registryError(again, `checking the login to ${registry}`);
    await again.body?.cancel();
  }

  async hasBlob(ref: Reference, digest: Digest): Promise<boolean> {
    const res = await this.request(ref, `/v2/${ref.repository}/blobs/${digest}`, { method: 'HEAD' }, 'push,pull');
    if (res.status === 404) return false;
    if (!res.ok) throw await registryError(res, `checking blob ${digest}`);
    return true;
  }

  /** Uploads a blob in one request (POST then PUT ?digest=), unless the registry has it already. */
  async pushBlob(ref: Reference, digest: Digest, bytes: Uint8Array): Promise<void> {
    if (await this.hasBlob(ref, digest)) return;
    const start = await this.request(ref, `/v2/${ref.repository}/blobs/uploads/`, { method: 'POST' }, 'push,pull');
    if (start.status !== 202) throw await registryError(start, `starting the upload of ${digest}`);
    const location = start.headers.get('location');
    if (!location)
      throw new RegistryError(
        'unavailable',
        `starting the upload of ${digest}: no Location header`,
        start.status,
        start.url,
      );
    const url = new URL(location, `${this.baseUrl(ref.registry)}/`);
    url.searchParams.set('digest', digest);
    const put = await this.request(
      ref,
      url.pathname + url.search,
      {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes as Uint8Array<ArrayBuffer>,
      },
      'push,pull',
      url.origin,
    );
    if (put.status !== 201) throw await registryError(put, `uploading ${digest}`);
  }

  async pushManifest(ref: Reference, tagOrDigest: string, bytes: Uint8Array, mediaType: string): Promise<Digest> {
    const res = await this.request(
      ref,
      `/v2/${ref.repository}/manifests/${tagOrDigest}`,
      {
        method: 'PUT',
        headers: { 'Content-Type': mediaType },
        body: bytes as Uint8Array<ArrayBuffer>,
      },
      'push,pull',
    );
    if (res.status !== 201) throw await registryError(res, `pushing manifest ${ref.repository}:${tagOrDigest}`);
    return sha256(bytes);
  }

  private backoff(attempt: number): number {
    return this.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
  }

  /** One API request with auth, retries and backoff. */
  private async request(
    ref: Reference,
    path: string,
    init: RequestInit,
    action: Action,
    origin?: string,
  ): Promise<Response> {
    const url = `${origin ?? this.baseUrl(ref.registry)}${path}`;
    const scope = `repository:${ref.repository}:${action}`;
    let authTried = false;
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init.headers);
      // Credentials and tokens go to the registry's own origin only (as docker's do): an upload
      // Location on another host (a storage provider, or one a hostile registry names) gets none.
      const auth =
        new URL(url).origin === new URL(this.baseUrl(ref.registry)).origin && this.authHeader(ref.registry, scope);
      if (auth) headers.set('Authorization', auth);
      let res: Response;
      try {
        res = await this.fetchFn(this.rewrite(url), { ...init, headers, redirect: 'follow' });
      } catch (e) {
        if (attempt >= this.retries) {
          throw new RegistryError('unavailable', `cannot reach ${url}: ${String((e as Error).cause ?? e)}`, 0, url);
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        const challenge = parseAuthChallenge(res.headers.get('www-authenticate'));
        await res.body?.cancel();
        if (challenge && (await this.authenticate(ref.registry, scope, challenge))) {
          attempt--;
          continue;
        }
        throw new RegistryError(
          'unauthenticated',
          `${ref.registry} refused access to ${ref.repository} (HTTP 401)${this.options.credentials?.(ref.registry) ? '' : '; log in first (berth login, or -u USER:PASS)'}`,
          401,
          url,
        );
      }
      if (res.status === 401) {
        // Still refused with the credentials it asked for: they are wrong, not the blob or the manifest.
        await res.body?.cancel();
        const c = this.options.credentials?.(ref.registry);
        throw new RegistryError(
          'unauthenticated',
          c
            ? `${ref.registry} refused the credentials of ${c.username} for ${ref.repository} (HTTP 401): a wrong user name or password?`
            : `${ref.registry} refused access to ${ref.repository} (HTTP 401); log in first (berth login, or -u USER:PASS)`,
          401,
          url,
        );
      }
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        const retryAfter = Number(res.headers.get('retry-after'));
        await res.body?.cancel();
        await this.sleep(
          Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : this.backoff(attempt),
        );
        continue;
      }
      return res;
    }
  }

  private rewrite(url: string): string {
    return this.options.rewriteUrl ? this.options.rewriteUrl(url) : url;
  }

  /**
   * The token URL a challenge names, where berth will send the user's password: an http(s) URL, and
   * with credentials https unless it is the registry's own origin or a loopback host (a registry
   * reached over plain http may name itself). A hostile or downgraded challenge naming plain http
   * elsewhere gets no password.
   */
  private realmFor(registry: string, challenge: AuthChallenge, scope?: string, withCredentials = true): URL {
    let realm: URL;
    try {
      realm = realmUrl(challenge, scope);
    } catch {
      throw new RegistryError('unauthenticated', `${registry} named a token service that is not a URL`, 401, '');
    }
    const own = realm.origin === new URL(this.baseUrl(registry)).origin;
    const loopback = isLoopbackRegistry(realm.host);
    if (realm.protocol === 'https:' || (realm.protocol === 'http:' && (own || loopback || !withCredentials)))
      return realm;
    throw new RegistryError(
      'unauthenticated',
      `${registry} named ${realm.protocol}//${realm.host} as its token service: berth sends credentials only over https`,
      401,
      realm.href,
    );
  }

  private authHeader(registry: string, scope: string): string | undefined {
    const t = this.tokens.get(`${registry}|${scope}`);
    if (t && t.expires > Date.now()) return `Bearer ${t.value}`;
    if (this.basic.has(registry)) {
      const c = this.options.credentials?.(registry);
      if (c) return `Basic ${btoa(`${c.username}:${c.password}`)}`;
    }
    return undefined;
  }

  private async authenticate(registry: string, scope: string, challenge: AuthChallenge): Promise<boolean> {
    const creds = this.options.credentials?.(registry);
    if (challenge.scheme === 'basic') {
      if (!creds) return false;
      this.basic.add(registry);
      return true;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return false;
    const realm = this.realmFor(registry, challenge, scope, !!creds);
    const headers: Record<string, string> = {};
    if (creds) headers.Authorization = `Basic ${btoa(`${creds.username}:${creds.password}`)}`;
    const res = await this.fetchFn(this.rewrite(realm.href), { headers });
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        'unauthenticated',
        `the token service of ${registry} refused ${creds ? `the credentials of ${creds.username}` : 'anonymous access'} for ${scope}`,
        res.status,
        realm.href,
      );
    }
    if (!res.ok) throw await registryError(res, `fetching a token for ${registry}`);
    // Not JSON, or not an object: no token, said below.
    const text = new TextDecoder().decode(
      await readCapped(res, MAX_TOKEN_BYTES, `the token of ${registry}`, { deadlineMs: this.timeouts.documentMs }),
    );
    const body = await Promise.resolve()
      .then(() => JSON.parse(text) as unknown)
      .then(
        (b: unknown) =>
          typeof b === 'object'
            ? (b as { token?: unknown; access_token?: unknown; expires_in?: unknown } | null)
            : null,
        () => null,
      );
    const value = [body?.token, body?.access_token].find((t): t is string => typeof t === 'string' && t !== '');
    if (!value)
      throw new RegistryError(
        'unauthenticated',
        `the token service of ${registry} answered without a token`,
        res.status,
        realm.href,
      );
    // Reuse until shortly before expiry (60 s when the service does not say, per the token spec).
    const expires = body?.expires_in;
    const lifetime = typeof expires === 'number' && Number.isFinite(expires) ? Math.max(1, expires) : 60;
    this.tokens.set(`${registry}|${scope}`, {
      value,
      expires: Date.now() + (lifetime - Math.min(10, lifetime / 2)) * 1000,
    });
    return true;
  }
}

const MAX_REFERRERS_PAGE = 4 * 1024 * 1024;
const MAX_REFERRERS = 1000;
/** A manifest or an index past this is refused as it arrives (ingest's own cap is lower). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** A token service's answer (a JWT and its lifetime: a few KB). */
const MAX_TOKEN_BYTES = 1024 * 1024;

/**
 * A response body read whole, but never past `cap` bytes: a Content-Length past it is refused
 * before reading, and a body without one (chunked) is cut off when it passes the cap.
 */
/** The `manifests` of an image index's bytes ([] for anything else: a registry's answer is checked by its user). */
function indexManifests(bytes: Uint8Array): unknown[] {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: unknown };
    return Array.isArray(doc?.manifests) ? doc.manifests : [];
  } catch {
    return [];
  }
}

function sniffMediaType(bytes: Uint8Array): string {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string; manifests?: unknown };
    if (doc.mediaType) return doc.mediaType;
    return doc.manifests ? MediaType.OciIndex : MediaType.OciManifest;
  } catch {
    return '';
  }
}

/** A Bearer challenge's token URL: its realm with the service (and the scope, when asked for one). */
function realmUrl(challenge: AuthChallenge, scope?: string): URL {
  const realm = new URL(challenge.params.realm!);
  if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
  if (scope) realm.searchParams.set('scope', scope);
  return realm;
}
