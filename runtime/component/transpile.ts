// Components made runnable, in any environment berth runs in (Node, a page's worker): jco's
// bindgen (`@bytecodealliance/jco-transpile/component`, itself a transpiled component, loaded only
// when a component is first run) splits the component into core modules and JS glue in the "async"
// instantiation mode, whose `instantiate(getCoreModule, imports)` takes berth's own WASI 0.2 host
// (wasi-p2-host.ts) as the imports. The glue is evaluated as a function of this realm (no module
// loading: a Service Worker has no dynamic import). Core modules are compiled once per component and
// memory cap (limitMemory lowers each module's maximum).
import { RuntimeError } from '../core/index.ts';
import { deadlineImports, DeadlineImport, instrumentDeadline, limitMemory } from '../wasm/index.ts';
import { noteOn, type ComponentLoader, type ComponentRun, type LoadedComponent } from './run-component.ts';

/**
 * How the glue calls the host. `sync`: every call returns at once (Node, dedicated workers, where
 * the host may block). `jspi`: the host's waits (wasi:io/poll) return promises the component is
 * suspended on, through JSPI, and `handle` returns a promise: for the Service Worker, which may not
 * block (a blocked SW delivers no streamed chunk and answers no other request).
 */
export type GlueVariant = 'sync' | 'jspi';

/**
 * The bindgen that writes the glue (package.json pins it; a test checks they agree): part of the
 * key transpiled components are kept under, so an upgrade transpiles them again.
 */
export const GLUE_VERSION = 'jco-transpile@0.15.0+jspi1';

/** How long a realm with only the store waits before it looks for a missing entry again. */
const STORE_RETRY_MS = 250;

/** The host calls that may suspend, and the exports called through `WebAssembly.promising`. */
const JSPI_IMPORTS = ['wasi:io/poll#poll', 'wasi:io/poll#[method]pollable.block'];
const JSPI_EXPORTS = ['wasi:http/incoming-handler#handle', 'wasi:cli/run#run'];

/** What the bindgen makes of a component. */
export interface TranspiledComponent {
  /** The glue: an ES module whose one export is `instantiate`. */
  glue: string;
  /**
   * Core modules by the names the glue asks for: Blobs when read from a store, whose bytes are read
   * only if a module must be compiled from them (not when its compiled form is kept).
   */
  modules: Record<string, Uint8Array | Blob>;
  /** The interfaces it imports and exports, unversioned (`wasi:cli/environment`). */
  imports: string[];
  exports: string[];
  variant?: GlueVariant;
  /**
   * The SHA-256 (hex) of each module's bytes, as a store keeps them: checked when a kept module's
   * bytes are read, so a damaged entry is told, and made again where the realm can transpile.
   */
  digests?: Record<string, string>;
}

const unversioned = (name: string) => name.replace(/@[^@/]*$/, '');

export async function transpileComponent(
  bytes: Uint8Array,
  variant: GlueVariant = 'sync',
): Promise<TranspiledComponent> {
  const { $init, generate } = await import('@bytecodealliance/jco-transpile/component');
  await $init;
  let out: ReturnType<typeof generate>;
  try {
    out = generate(bytes, {
      name: 'component',
      instantiation: { tag: 'async' },
      noTypescript: true,
      noNodejsCompat: true,
      noComponentErrorWrapping: false,
      base64Cutoff: 0,
      ...(variant === 'jspi'
        ? { asyncMode: { tag: 'jspi' as const, val: { imports: JSPI_IMPORTS, exports: JSPI_EXPORTS } } }
        : {}),
    });
  } catch (e) {
    const why =
      typeof e === 'object' && e && 'payload' in e
        ? String((e as { payload: unknown }).payload)
        : String((e as Error)?.message ?? e);
    throw new RuntimeError('invalid-argument', `the component cannot be read: ${why}`, { cause: e });
  }
  const modules: Record<string, Uint8Array> = {};
  let glue = '';
  for (const [name, data] of out.files) {
    if (name.endsWith('.js')) glue = new TextDecoder().decode(data);
    else if (name.endsWith('.wasm')) modules[name] = data;
  }
  if (!glue) throw new RuntimeError('internal', 'jco gave no glue for the component');
  return {
    glue,
    modules,
    variant,
    imports: [...new Set(out.imports.map(unversioned))],
    exports: [...new Set(out.exports.map(([n]) => unversioned(n)).filter((n) => n.includes(':')))],
  };
}

type Instantiate = (
  getCoreModule: (name: string) => Promise<WebAssembly.Module>,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore?: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, unknown>>;

// What jco-transpile 0.15's glue does that a hostile component could turn against its host, and
// what berth changes of it (mendGlue). Both are exact texts of that glue: a bindgen that writes them
// differently is left as it is, and transpile.test.ts fails on the pinned one if they stop matching.
//
// - Every resource the host hands the component is added to its handle table's `_createdReps`, a
//   Set nothing reads or empties: a component that makes and drops pollables in a loop (any preview1
//   program polling through the adapter) held ~35 bytes more per resource, as long as it ran
//   (10 MiB for 300,000 polls; at a service's 30 s deadline, over a gigabyte in the SW's thread).
//   The `.add` is taken out when the glue has no other use of the Set.
// - `_debugLog` reads `process.env.JCO_DEBUG` on each of its ~470 calls, several per host call: a
//   quarter of a poll's time in Node, and it printed the arguments of every call when the variable
//   was set. It does nothing here.
const CREATED_REPS_ADD = 'table._createdReps.add(rep);';
const CREATED_REPS_USE = /_createdReps(?! = new Set\(\);)/g;
const DEBUG_LOG =
  /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/;

/** The glue with the changes above, where it has the texts they are made to. */
export function mendGlue(glue: string): string {
  let out = glue.replace(DEBUG_LOG, 'const _debugLog = () => {};');
  const uses = out.match(CREATED_REPS_USE)?.length ?? 0;
  const adds = out.split(CREATED_REPS_ADD).length - 1;
  if (adds > 0 && uses === adds) out = out.replaceAll(CREATED_REPS_ADD, '');
  return out;
}

/**
 * The glue's `instantiate`, evaluated in this realm: its `export`s made local, the function returned.
 * `import.meta` (only in its fallback for a missing getCoreModule, which berth always passes) is not
 * allowed outside a module: it becomes an object of this realm's location.
 */
function evaluateGlue(glue: string): Instantiate {
  const source = mendGlue(glue)
    .replace(/^export (function|const|let|class|async function) /gm, '$1 ')
    .replace(/import\.meta/g, '({ url: "about:berth-component" })');
  const body = `${source}\nreturn instantiate;`;
  // The glue is jco's output for the component (the same code a build would ship), not the
  // component's own: the component stays inside its core modules and berth's host.
  return new Function(body)() as Instantiate;
}

export interface LoadOptions {
  maxMemoryBytes?: number;
  /**
   * Compile each core module with deadline metering (instrumentDeadline), for realms that cannot be
   * terminated (the Service Worker): a run then ends at its deadline even in a loop that never
   * calls the host.
   */
  meter?: boolean;
  /**
   * Compiles a core module from its bytes as run (capped, metered), `name` being the glue's name
   * for it; WebAssembly.compile without it. A componentLoader with `compileCore` passes one that
   * keeps them across restarts.
   */
  compile?: (name: string, bytes: () => Promise<Uint8Array>) => Promise<WebAssembly.Module>;
  /** Told when a kept module's bytes are not what its entry says (the loader then makes it again). */
  onDamaged?: () => void;
}

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
const sha256 = async (bytes: Uint8Array) =>
  hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));

/**
 * A core module's bytes as they are run (`name` one of `t.modules`, which its callers check): its
 * memory capped and, when metered, deadline checks added.
 */
async function coreBytes(t: TranspiledComponent, name: string, options: LoadOptions): Promise<Uint8Array> {
  const kept = t.modules[name]!;
  const raw = kept instanceof Uint8Array ? kept : new Uint8Array(await kept.arrayBuffer());
  const digest = t.digests?.[name];
  if (!(kept instanceof Uint8Array) && digest !== undefined && (await sha256(raw)) !== digest) {
    options.onDamaged?.();
    throw new RuntimeError('internal', `the kept component is damaged (its ${name} is not what it was)`);
  }
  const capped = options.maxMemoryBytes === undefined ? raw : limitMemory(raw, options.maxMemoryBytes);
  return options.meter ? instrumentDeadline(capped) : capped;
}

/** A LoadedComponent from a transpiled one (fresh instances, modules compiled once). */
export function loadTranspiled(t: TranspiledComponent, options: LoadOptions = {}): LoadedComponent {
  const instantiate = evaluateGlue(t.glue);
  const compiled = new Map<string, Promise<WebAssembly.Module>>();
  const getCoreModule = (name: string) => {
    let m = compiled.get(name);
    if (!m) {
      if (!t.modules[name]) throw new RuntimeError('internal', `jco's glue asked for ${name}, which it did not write`);
      m = options.compile
        ? options.compile(name, () => coreBytes(t, name, options))
        : coreBytes(t, name, options).then((b) => WebAssembly.compile(b as Uint8Array<ArrayBuffer>));
      // A compile that failed (a kept Blob unreadable for a moment) is tried again by the next run.
      m.catch(() => compiled.delete(name));
      compiled.set(name, m);
    }
    return m;
  };
  return {
    imports: t.imports,
    exports: t.exports,
    suspends: t.variant === 'jspi',
    instantiate: (imports, run = {}) => {
      if (!options.meter) return instantiate(getCoreModule, imports);
      // The deadline a tick finds passed is kept on the run: the core module then traps, and the
      // glue may turn that into something else on its way out.
      const tick = deadlineImports(deadlineOf(run), { onExceeded: noteOn(run) });
      return instantiate(getCoreModule, imports, (module, coreImports = {}) => {
        const metered = WebAssembly.Module.imports(module).some(
          (i) => i.module === DeadlineImport.module && i.name === DeadlineImport.name,
        );
        if (!metered) return WebAssembly.instantiate(module, coreImports);
        return WebAssembly.instantiate(module, { ...coreImports, ...tick }).then((i) => {
          (run.metered ??= []).push(i);
          return i;
        });
      });
    },
  };
}

/** When a run's ticks find its deadline passed: at once once it met it in a host wait, or was stopped. */
function deadlineOf(run: ComponentRun): () => number {
  return () =>
    run.exceeded || run.stopped?.() ? Number.NEGATIVE_INFINITY : (run.deadlineAt ?? Number.POSITIVE_INFINITY);
}

/** Where transpiled components are kept between realms (the Cache API), by key. */
export interface TranspiledStore {
  get(key: string): Promise<TranspiledComponent | undefined>;
  put(key: string, t: TranspiledComponent): Promise<void>;
  /** Forgets `key` (an entry found damaged). */
  delete?(key: string): Promise<void>;
}

export interface ComponentLoaderOptions {
  /** How a realm transpiles; absent where the bindgen cannot run (the SW): then only `store` serves. */
  transpile?: (bytes: Uint8Array, variant: GlueVariant) => Promise<TranspiledComponent>;
  variant?: GlueVariant;
  store?: TranspiledStore;
  /** Variants to transpile and store beside this realm's own, for other realms (the SW's `jspi`). */
  alsoStore?: GlueVariant[];
  meter?: boolean;
  /**
   * Compiles a core module as run, under a key naming its bytes (the bindgen, the component's key,
   * the module's name, the memory cap, metering; not the variant, whose core modules are the same
   * bytes): the run contexts pass a ModuleCache over the Cache API, so that a restart finds the
   * modules capped and metered and the engine's code kept with them, where it did both again (the
   * deadline rewrite of a 13 MB core module: 0.3 s). Without it, WebAssembly.compile.
   */
  compileCore?: (key: string, bytes: () => Promise<Uint8Array>) => Promise<WebAssembly.Module>;
}

/**
 * Transpiles each component once per realm (by key and memory cap), or takes it from `store`, where
 * it also keeps what it transpiled (with the `alsoStore` variants) for other realms and later runs.
 */
// No default options: a default naming transpileComponent kept jco's bindgen (4.6 MB of base64 wasm)
// in the Service Worker's script, which never transpiles.
export function componentLoader(options: ComponentLoaderOptions): ComponentLoader {
  const loaded = new Map<string, Promise<LoadedComponent>>();
  const variant = options.variant ?? 'sync';
  const loadOptions = (key: string, maxMemoryBytes: number | undefined): LoadOptions => {
    const compileCore = options.compileCore;
    const meter = options.meter === true;
    const compile = compileCore
      ? {
          compile: (name: string, bytes: () => Promise<Uint8Array>) =>
            compileCore(JSON.stringify([GLUE_VERSION, key, name, maxMemoryBytes ?? null, meter]), bytes),
        }
      : {};
    return { maxMemoryBytes, meter, ...compile };
  };
  // The glue depends on the bindgen that wrote it: a kept one from another version is not used.
  const storeKey = (key: string, v: GlueVariant) => `${GLUE_VERSION}:${v}:${key}`;
  /** Components whose kept entry was found damaged: transpiled again, and kept anew. */
  const damaged = new Set<string>();
  const transpiled = async (key: string, load: () => Promise<Uint8Array>): Promise<TranspiledComponent> => {
    const transpile = options.transpile;
    if (!transpile) return keptOnly(key);
    const kept = damaged.has(key) ? undefined : await options.store?.get(storeKey(key, variant)).catch(() => undefined);
    if (kept) return kept;
    damaged.delete(key);
    const bytes = await load();
    const t = await transpile(bytes, variant);
    if (options.store) {
      const store = options.store;
      await store.put(storeKey(key, variant), t).catch(() => {});
      // The other variants after this run has its own: they cost a transpile each.
      const others = (options.alsoStore ?? []).filter((v) => v !== variant);
      void (async () => {
        for (const other of others) await store.put(storeKey(key, other), await transpile(bytes, other));
      })().catch(() => {});
    }
    return t;
  };
  // A realm that cannot transpile (the SW) has only the store: a failed read is said with its cause,
  // and a miss is looked up once more before it is called unprepared (one CI run of the engine walk
  // saw WebKit's SW miss an entry the app's worker had put seconds before, under load).
  const keptOnly = async (key: string): Promise<TranspiledComponent> => {
    const store = options.store;
    let failure: unknown;
    for (const pause of [0, STORE_RETRY_MS]) {
      if (pause) await new Promise((r) => setTimeout(r, pause));
      try {
        const kept = await store?.get(storeKey(key, variant));
        if (kept) return kept;
      } catch (e) {
        failure = e;
      }
    }
    if (failure !== undefined) {
      const why = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
      throw new RuntimeError('internal', `this component's prepared form could not be read from the cache (${why})`);
    }
    throw new RuntimeError(
      'unimplemented',
      'this component has not been prepared for the Service Worker yet: open the berth app (its workers prepare it when a service is created or first run)',
    );
  };
  return {
    async prepare(key, load, prepareOptions = {}) {
      const store = options.store;
      const transpile = options.transpile;
      if (!store || !transpile) return;
      let bytes: Uint8Array | undefined;
      let own: TranspiledComponent | undefined;
      for (const v of new Set([variant, ...(options.alsoStore ?? [])])) {
        const kept = await store.get(storeKey(key, v)).catch(() => undefined);
        if (v === variant) own = kept;
        if (kept) continue;
        bytes ??= await load();
        const t = await transpile(bytes, v);
        if (v === variant) own = t;
        await store.put(storeKey(key, v), t);
      }
      // The core modules as the runs will compile them (every variant's are the same bytes), so
      // that no first request pays for capping and metering them.
      if (own && options.compileCore) {
        const o = loadOptions(key, prepareOptions.maxMemoryBytes);
        for (const name of Object.keys(own.modules)) await o.compile!(name, () => coreBytes(own, name, o));
      }
    },
    get(key, load, getOptions = {}) {
      const k = `${key}:${getOptions.maxMemoryBytes ?? ''}`;
      let c = loaded.get(k);
      if (!c) {
        c = transpiled(key, load).then((t) =>
          loadTranspiled(t, {
            ...loadOptions(key, getOptions.maxMemoryBytes),
            // A realm that can transpile makes it again at its next run; one that cannot (the SW)
            // then says it is unprepared, until an app window's worker runs it and keeps it anew.
            onDamaged: () => {
              damaged.add(key);
              void options.store?.delete?.(storeKey(key, variant)).catch(() => {});
              for (const other of [...loaded.keys()]) if (other.startsWith(`${key}:`)) loaded.delete(other);
            },
          }),
        );
        c.catch(() => loaded.delete(k));
        loaded.set(k, c);
      }
      return c;
    },
  };
}

/**
 * A transpiled component as one body: a JSON head (the glue, its imports and exports, the modules'
 * names and sizes) after its length (4 bytes, little-endian), then the modules' bytes.
 */
export async function encodeTranspiled(t: TranspiledComponent): Promise<Blob> {
  const sizes = Object.entries(t.modules).map(
    ([n, b]) => [n, b instanceof Blob ? b.size : b.length] as [string, number],
  );
  const digests: Record<string, string> = {};
  for (const [n, b] of Object.entries(t.modules))
    digests[n] = await sha256(b instanceof Blob ? new Uint8Array(await b.arrayBuffer()) : b);
  const glueDigest = await sha256(new TextEncoder().encode(t.glue));
  const { glue, imports, exports, variant } = t;
  const head = new TextEncoder().encode(
    JSON.stringify({ glue, glueDigest, imports, exports, variant, sizes, digests }),
  );
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, head.length, true);
  return new Blob([length, head, ...Object.values(t.modules)] as BlobPart[]);
}

/**
 * What encodeTranspiled wrote, its modules as parts of `all` read only when asked: a core module's
 * bytes are needed only when its compiled form is not kept (reading the 13 MB entry of a
 * ComponentizeJS handler whole took 46 ms of the Service Worker's first request after a restart).
 * `what` names the entry in the error a damaged one gives.
 */
export async function decodeTranspiled(
  all: Blob,
  what: string,
  options: { checkModules?: boolean } = {},
): Promise<TranspiledComponent> {
  const damaged = (why: string) => new RuntimeError('internal', `the kept component ${what} is damaged (${why})`);
  if (all.size < 4) throw damaged('it is empty');
  const headLength = new DataView(await all.slice(0, 4).arrayBuffer()).getUint32(0, true);
  if (4 + headLength > all.size) throw damaged('its head is cut short');
  let head: Omit<TranspiledComponent, 'modules'> & { sizes: [string, number][]; glueDigest?: string };
  try {
    head = JSON.parse(await all.slice(4, 4 + headLength).text());
  } catch {
    throw damaged('its head is not JSON');
  }
  const modules: Record<string, Uint8Array | Blob> = {};
  let at = 4 + headLength;
  for (const [name, size] of head.sizes) {
    modules[name] = all.slice(at, at + size);
    at += size;
  }
  if (at !== all.size) throw damaged('its sizes do not add up');
  // The glue is read whole here, so it is checked here (1 MB for a ComponentizeJS handler: about
  // 2 ms); a module is checked when its bytes are read, which a kept compiled form spares.
  if (head.glueDigest !== undefined && (await sha256(new TextEncoder().encode(head.glue))) !== head.glueDigest)
    throw damaged('its glue is not what it was');
  // Where the whole entry is in memory anyway (a file read whole), its modules are checked now too,
  // so that damage is made good before the run rather than failing it; they are then kept as bytes
  // (checked: coreBytes does not check them again).
  if (options.checkModules && head.digests)
    for (const [name, blob] of Object.entries(modules)) {
      const bytes = new Uint8Array(await (blob as Blob).arrayBuffer());
      if ((await sha256(bytes)) !== head.digests[name]) throw damaged(`its ${name} is not what it was`);
      modules[name] = bytes;
    }
  return {
    glue: head.glue,
    imports: head.imports,
    exports: head.exports,
    variant: head.variant,
    modules,
    ...(head.digests ? { digests: head.digests } : {}),
  };
}

/** The Cache API cache transpiled components are kept in. */
export const COMPONENT_CACHE = 'berth-components';

/** Transpiled components in the Cache API (COMPONENT_CACHE): one entry per key, encodeTranspiled's body. */
export function cacheApiTranspiledStore(cacheName = COMPONENT_CACHE): TranspiledStore | undefined {
  const cachesApi = (globalThis as { caches?: CacheStorage }).caches;
  const origin = (globalThis as { location?: { origin: string } }).location?.origin;
  if (!cachesApi || !origin) return undefined;
  const url = (key: string) => `${origin}/__berth/components/${encodeURIComponent(key)}`;
  return {
    async get(key) {
      const r = await (await cachesApi.open(cacheName)).match(url(key));
      return r && decodeTranspiled(await r.blob(), key);
    },
    async put(key, t) {
      await (await cachesApi.open(cacheName)).put(url(key), new Response(await encodeTranspiled(t)));
    },
    async delete(key) {
      await (await cachesApi.open(cacheName)).delete(url(key));
    },
  };
}
