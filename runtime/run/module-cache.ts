// Compiled modules, keyed by the digest of their bytes' image and path (and the memory cap, which
// is part of the module). A module is compiled once and shared; an instance never is.
// With a CompiledModuleStore (browsers: the Cache API), the bytes as compiled are kept across
// browser restarts and compiled with `WebAssembly.compileStreaming` from the stored Response: the
// engine then keeps its compiled code beside the entry (V8's wasm code caching, for modules over
// 128 KB), so a large program is not compiled from scratch again after a restart.

import { COMPONENT_CACHE, GLUE_VERSION } from '../component/transpile.ts';
import { DEADLINE_REWRITE } from '../wasm/instrument-deadline.ts';

/** How run-image.ts spells its keys (2: JSON; 1 was joined text, which an image's path could forge). */
const KEY_FORMAT = 2;

/**
 * The Cache API cache of compiled modules, named with the deadline rewrite's version and the keys'
 * format: a berth with a new rewrite never runs a module metered by an old one, and
 * pruneModuleCaches deletes those.
 */
export const MODULE_CACHE = `berth-modules-${DEADLINE_REWRITE}-k${KEY_FORMAT}`;

/** Where the bytes of compiled modules are kept between sessions. */
export interface CompiledModuleStore {
  /** The stored bytes of `key` as a Response (Content-Type application/wasm), if any. */
  match(key: string): Promise<Response | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

export class ModuleCache {
  private readonly modules = new Map<string, Promise<WebAssembly.Module>>();
  /** `onCompiled` sees each module this cache compiles itself (a worker hands them back to its page). */
  constructor(
    private readonly onCompiled?: (key: string, module: WebAssembly.Module) => void,
    /** Rewrites a module's bytes before compiling (the SW and the run workers add deadline checks). */
    private readonly transform?: (bytes: Uint8Array) => Uint8Array,
    private readonly store?: CompiledModuleStore,
  ) {}
  /** Whether `key` was compiled (or is being compiled) in this cache. */
  has(key: string): boolean {
    return this.modules.has(key);
  }
  get(key: string, load: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
    let m = this.modules.get(key);
    if (!m) {
      m = this.compile(key, load).then((module) => {
        this.onCompiled?.(key, module);
        return module;
      });
      m.catch(() => this.modules.delete(key));
      this.modules.set(key, m);
    }
    return m;
  }
  set(key: string, module: WebAssembly.Module): void {
    this.modules.set(key, Promise.resolve(module));
  }

  private async compile(key: string, load: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
    const stored = await this.store?.match(key).catch(() => undefined);
    if (stored) {
      try {
        return await WebAssembly.compileStreaming(stored);
      } catch {
        // A damaged entry: compiled again from the image below, and replaced.
      }
    }
    const raw = await load();
    const bytes = (this.transform ? this.transform(raw) : raw) as Uint8Array<ArrayBuffer>;
    if (this.store) {
      const kept = await this.store
        .put(key, bytes)
        .then(() => this.store!.match(key))
        .catch(() => undefined);
      if (kept) return WebAssembly.compileStreaming(kept);
    }
    return WebAssembly.compile(bytes);
  }
}

/**
 * A componentLoader's `compileCore` over `store`: a ModuleCache of its own, with no rewrite (its
 * bytes come capped and metered), so each core module is compiled once per realm and kept across
 * restarts.
 */
export function keptCompiles(
  store: CompiledModuleStore | undefined,
): (key: string, bytes: () => Promise<Uint8Array>) => Promise<WebAssembly.Module> {
  const cache = new ModuleCache(undefined, undefined, store);
  return (key, bytes) => cache.get(key, bytes);
}

/**
 * The Cache API as a CompiledModuleStore (pages, workers, the Service Worker). `scope` keeps apart
 * modules compiled differently ('metered': the SW's and the run workers', with deadline checks).
 */
export function cacheApiModuleStore(scope: string, cacheName = MODULE_CACHE): CompiledModuleStore | undefined {
  const cachesApi = (globalThis as { caches?: CacheStorage }).caches;
  const origin = (globalThis as { location?: { origin: string } }).location?.origin;
  if (!cachesApi || !origin) return undefined;
  const url = (key: string) => `${origin}/__berth/modules/${scope}/${encodeURIComponent(key)}`;
  const open = () => cachesApi.open(cacheName);
  return {
    match: async (key) => (await (await open()).match(url(key))) ?? undefined,
    put: async (key, bytes) => {
      const body = new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/wasm' } });
      await (await open()).put(url(key), body);
    },
  };
}

/** Deletes the module caches of other rewrites (the SW does on activation); returns their names. */
export async function pruneModuleCaches(
  cachesApi: Pick<CacheStorage, 'keys' | 'delete'> | undefined = (globalThis as { caches?: CacheStorage }).caches,
): Promise<string[]> {
  if (!cachesApi) return [];
  const old = (await cachesApi.keys()).filter(
    (n) => (n === 'berth-modules' || n.startsWith('berth-modules-')) && n !== MODULE_CACHE,
  );
  await Promise.all(old.map((n) => cachesApi.delete(n)));
  return old;
}

/** The image digest a kept entry's key begins with (every key names its image before its path). */
const IMAGE_DIGEST = /sha(?:256:[0-9a-f]{64}|512:[0-9a-f]{128})/;

/**
 * Deletes what was compiled or transpiled for images no longer stored, and what another bindgen
 * transpiled: a removed image's modules stay in the Cache API otherwise (a ComponentizeJS handler
 * leaves some 26 MB: its transpiled form and its metered core module), where they count against
 * the origin's quota. Entries whose key names no image are left alone. `storedImages` is asked
 * after the caches' entries are listed, so an image stored (and its entries made) meanwhile, in
 * another window, is never taken for a removed one. Says how many it deleted.
 */
export async function pruneCompiledForImages(
  storedImages: () => Promise<ReadonlySet<string>>,
  cachesApi: Pick<CacheStorage, 'open' | 'has'> | undefined = (globalThis as { caches?: CacheStorage }).caches,
): Promise<number> {
  if (!cachesApi) return 0;
  const listed: { cache: Cache; request: Request; digest?: string; otherBindgen: boolean }[] = [];
  for (const [name, prefix] of [
    [MODULE_CACHE, '/__berth/modules/'],
    [COMPONENT_CACHE, '/__berth/components/'],
  ] as const) {
    if (!(await cachesApi.has(name))) continue;
    const cache = await cachesApi.open(name);
    for (const request of await cache.keys()) {
      const path = new URL(request.url).pathname;
      if (!path.startsWith(prefix)) continue;
      let key: string;
      try {
        key = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
      } catch {
        continue;
      }
      // Transpiled components are keyed `${GLUE_VERSION}:...`, their core modules `["${GLUE_VERSION}",...]`.
      const component = name === COMPONENT_CACHE || path.startsWith(`${prefix}component/`);
      const otherBindgen = component && !key.startsWith(`${GLUE_VERSION}:`) && !key.startsWith(`["${GLUE_VERSION}"`);
      listed.push({ cache, request, digest: IMAGE_DIGEST.exec(key)?.[0], otherBindgen });
    }
  }
  if (!listed.length) return 0;
  const stored = await storedImages();
  let deleted = 0;
  for (const e of listed)
    if ((e.digest && !stored.has(e.digest)) || e.otherBindgen) if (await e.cache.delete(e.request)) deleted++;
  return deleted;
}
