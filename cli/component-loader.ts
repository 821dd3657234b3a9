// Components in Node: a component is transpiled by jco (`@bytecodealliance/jco-transpile`, loaded only
// when a component is run) into its core modules and JS glue in jco's "async" instantiation mode,
// whose `instantiate(getCoreModule, imports)` takes berth's own WASI 0.2 host
// (runtime/component/wasi-p2-host.ts) as the imports: nothing of preview2-shim runs, files are
// berth's VFS. The glue imports nothing; it is loaded from a file named by its hash in the temp dir
// (a data: URL would put the whole glue, base64, in every stack trace a trap prints). Core modules
// are compiled once per component and memory cap (limitMemory lowers each module's maximum).
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ComponentLoader, LoadedComponent } from '../runtime/component/index.ts';
import { RuntimeError } from '../runtime/core/index.ts';
import { limitMemory } from '../runtime/wasm/index.ts';

interface Glue {
  instantiate(
    getCoreModule: (name: string) => Promise<WebAssembly.Module>,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<Record<string, unknown>>;
}

/** The glue as a module file, by content (written once, atomically). */
function writeGlue(js: Uint8Array): string {
  const dir = join(tmpdir(), 'berth-component-glue');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${createHash('sha256').update(js).digest('hex').slice(0, 32)}.mjs`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, js);
  renameSync(tmp, path);
  return path;
}

async function transpile(bytes: Uint8Array, maxMemoryBytes?: number): Promise<LoadedComponent> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  let out: { files: Record<string, Uint8Array>; imports: string[] };
  try {
    out = await transpileBytes(bytes, {
      name: 'component',
      instantiation: 'async',
      emitTypescriptDeclarations: false,
    });
  } catch (e) {
    throw new RuntimeError('invalid-argument', `the component cannot be read: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
  const js = out.files['component.js'];
  if (!js) throw new RuntimeError('internal', 'jco gave no glue for the component');
  const glue = (await import(pathToFileURL(writeGlue(js)).href)) as Glue;
  const compiled = new Map<string, Promise<WebAssembly.Module>>();
  const getCoreModule = (name: string) => {
    let m = compiled.get(name);
    if (!m) {
      const raw = out.files[name];
      if (!raw) throw new RuntimeError('internal', `jco's glue asked for ${name}, which it did not write`);
      const core = maxMemoryBytes === undefined ? raw : limitMemory(raw, maxMemoryBytes);
      m = WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
      compiled.set(name, m);
    }
    return m;
  };
  return {
    imports: out.imports.map((i) => i.replace(/@[^@/]*$/, '')),
    instantiate: (imports) => glue.instantiate(getCoreModule, imports),
  };
}

/** Transpiles each component once per process (by key and memory cap). */
export function nodeComponentLoader(): ComponentLoader {
  const loaded = new Map<string, Promise<LoadedComponent>>();
  return {
    get(key, load, options = {}) {
      const k = `${key}:${options.maxMemoryBytes ?? ''}`;
      let c = loaded.get(k);
      if (!c) {
        c = load().then((bytes) => transpile(bytes, options.maxMemoryBytes));
        c.catch(() => loaded.delete(k));
        loaded.set(k, c);
      }
      return c;
    },
  };
}

/** A component's imports and exports (interfaces, unversioned) and the world it targets, for its artifact config. */
export async function componentInfo(
  bytes: Uint8Array,
): Promise<{ imports: string[]; exports: string[]; target?: string }> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  let out: { imports: string[]; exports: [string, string][] };
  try {
    out = await transpileBytes(bytes, { name: 'component', instantiation: 'async', emitTypescriptDeclarations: false });
  } catch (e) {
    throw new RuntimeError('invalid-argument', `the component cannot be read: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
  const unversioned = (n: string) => n.replace(/@[^@/]*$/, '');
  const exports = [...new Set(out.exports.map(([n]) => unversioned(n)).filter((n) => n.includes(':')))];
  const imports = [...new Set(out.imports.map(unversioned))];
  const target = exports.includes('wasi:http/incoming-handler')
    ? 'wasi:http/proxy'
    : exports.includes('wasi:cli/run')
      ? 'wasi:cli/command'
      : undefined;
  return { imports, exports, ...(target ? { target } : {}) };
}
