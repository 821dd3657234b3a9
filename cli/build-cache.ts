// What the CLI keeps to start runs faster, in `<store>/cache` (docker's "build cache" in
// `berth system df`, emptied by `berth system prune`): transpiled components (jco's bindgen costs
// 0.4 s to load and more to run, at every `berth run` of a component) and the modules `berth serve`
// runs metered, as it compiles them (the deadline rewrite of a 13 MB core module: 0.3 s at each
// server start). Entries are named by the SHA-256 of their key and written whole under a temporary
// name, then renamed, so processes sharing a store never read half an entry. Everything here can
// be made again: a damaged entry is made again, and deleting the directory loses nothing.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ComponentLoaderOptions,
  decodeTranspiled,
  encodeTranspiled,
  type TranspiledComponent,
  type TranspiledStore,
} from '../runtime/component/index.ts';
import { type CompiledModuleStore, MODULE_CACHE, ModuleCache } from '../runtime/run/module-cache.ts';

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
      return bytes && decodeTranspiled(new Blob([bytes]), key);
    },
    async put(key: string, t: TranspiledComponent) {
      await writeWhole(fileOf(dir, key), dir, new Uint8Array(await encodeTranspiled(t).arrayBuffer()));
    },
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
  const cores = new ModuleCache(undefined, undefined, fsModuleStore(cache, 'component'));
  return { store: fsTranspiledStore(cache), compileCore: (key, bytes) => cores.get(key, bytes) };
}

/** The files the cache holds and their bytes. */
export async function cacheUsage(cache: string): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const d of names) {
      const path = join(dir, d.name);
      if (d.isDirectory()) await walk(path);
      else if (d.isFile()) {
        entries++;
        bytes += (await stat(path)).size;
      }
    }
  };
  await walk(cache);
  return { entries, bytes };
}

/** Empties the cache; says what it freed. */
export async function clearCache(cache: string): Promise<{ entries: number; bytes: number }> {
  const used = await cacheUsage(cache);
  await rm(cache, { recursive: true, force: true });
  return used;
}
