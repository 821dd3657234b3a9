// What the CLI keeps to start runs faster, in `<store>/cache` (docker's "build cache" in
// `berth system df`, emptied by `berth system prune`): transpiled components (jco's bindgen costs
// 0.4 s to load and more to run, at every `berth run` of a component) and the modules `berth serve`
// runs metered, as it compiles them (the deadline rewrite of a 13 MB core module: 0.3 s at each
// server start). Entries are named by the SHA-256 of their key and written whole under a temporary
// name, then renamed, so processes sharing a store never read half an entry. Everything here can
// be made again: a damaged entry is made again, and deleting the directory loses nothing.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  type ComponentLoaderOptions,
  decodeTranspiled,
  encodeTranspiled,
  type TranspiledComponent,
  type TranspiledStore,
} from '../runtime/component/index.ts';
import { type CompiledModuleStore, keptCompiles, MODULE_CACHE } from '../runtime/run/module-cache.ts';

/** The cache of the store at `storeDir`. */
export const cacheDir = (storeDir: string) => join(storeDir, 'cache');

const fileOf = (dir: string, key: string) => join(dir, createHash('sha256').update(key).digest('hex'));

async function readIfThere(path: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function writeWhole(path: string, dir: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Transpiled components in `<cache>/components`, one file per key (encodeTranspiled's body). */
export function fsTranspiledStore(cache: string): TranspiledStore {
  const dir = join(cache, 'components');
  return {
    async get(key) {
      const bytes = await readIfThere(fileOf(dir, key));
      return bytes && decodeTranspiled(new Blob([bytes]), key, { checkModules: true });
    },
    async put(key: string, t: TranspiledComponent) {
      await writeWhole(fileOf(dir, key), dir, new Uint8Array(await (await encodeTranspiled(t)).arrayBuffer()));
    },
    delete: (key) => rm(fileOf(dir, key), { force: true }),
  };
}

/**
 * Modules as compiled, in `<cache>/<MODULE_CACHE>/<scope>` (named with the deadline rewrite, as the
 * browsers' Cache API cache is: a berth with another rewrite never finds them).
 */
export function fsModuleStore(cache: string, scope: string): CompiledModuleStore {
  const dir = join(cache, MODULE_CACHE, scope);
  return {
    async match(key) {
      const bytes = await readIfThere(fileOf(dir, key));
      return bytes && new Response(bytes, { headers: { 'Content-Type': 'application/wasm' } });
    },
    put: (key, bytes) => writeWhole(fileOf(dir, key), dir, bytes),
  };
}

/**
 * What a component loader keeps here (nodeComponentLoader's `kept`): transpiled components, and
 * with `meter` the core modules as compiled (scope `component`); unmetered ones are only capped,
 * which costs less than reading them back.
 */
export function keptComponents(
  cache: string,
  options: { meter?: boolean } = {},
): Pick<ComponentLoaderOptions, 'store' | 'compileCore'> {
  if (!options.meter) return { store: fsTranspiledStore(cache) };
  return { store: fsTranspiledStore(cache), compileCore: keptCompiles(fsModuleStore(cache, 'component')) };
}

/** Errors a walk of a cache another berth is writing may meet, and passes over. */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

/**
 * The files the cache holds and their bytes (temporary ones too: a writer killed before its rename
 * leaves one until `system prune`). Files renamed or removed while it looks are passed over.
 */
export async function cacheUsage(cache: string): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (GONE.has((e as NodeJS.ErrnoException).code ?? '')) return;
      throw e;
    }
    for (const d of names) {
      const path = join(dir, d.name);
      if (d.isDirectory()) await walk(path);
      else if (d.isFile()) {
        const size = await stat(path).then(
          (st) => st.size,
          (e: NodeJS.ErrnoException) => {
            if (GONE.has(e.code ?? '')) return undefined;
            throw e;
          },
        );
        if (size === undefined) continue;
        entries++;
        bytes += size;
      }
    }
  };
  await walk(cache);
  return { entries, bytes };
}

/**
 * Empties the cache; says what it freed. The directory is first renamed aside, so a berth writing
 * meanwhile makes a new one rather than racing the removal (and a write that loses the race is only
 * an entry not kept).
 */
export async function clearCache(cache: string): Promise<{ entries: number; bytes: number }> {
  const aside = `${cache}.${randomUUID()}.old`;
  try {
    await rename(cache, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: 0, bytes: 0 };
    throw e;
  }
  const used = await cacheUsage(aside);
  await rm(aside, { recursive: true, force: true });
  // What an earlier prune, killed midway, left aside.
  const parent = dirname(cache);
  const left = new RegExp(`^${basename(cache).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f-]{36}\\.old$`);
  for (const name of await readdir(parent).catch(() => [] as string[]))
    if (left.test(name)) await rm(join(parent, name), { recursive: true, force: true });
  return used;
}
