// Components made runnable, in any environment berth runs in (Node, a page's worker): jco's
// bindgen (`@bytecodealliance/jco-transpile/component`, itself a transpiled component, loaded only
// when a component is first run) splits the component into core modules and JS glue in the "async"
// instantiation mode, whose `instantiate(getCoreModule, imports)` takes berth's own WASI 0.2 host
// (wasi-p2-host.ts) as the imports. The glue is evaluated as a function of this realm (no module
// loading: a Service Worker has no dynamic import). Core modules are compiled once per component and
// memory cap (limitMemory lowers each module's maximum).
import { RuntimeError } from '../core/index.ts';
import { limitMemory } from '../wasm/index.ts';
import type { ComponentLoader, LoadedComponent } from './run-component.ts';

/** What the bindgen makes of a component. */
export interface TranspiledComponent {
  /** The glue: an ES module whose one export is `instantiate`. */
  glue: string;
  /** Core modules by the names the glue asks for. */
  modules: Record<string, Uint8Array>;
  /** The interfaces it imports and exports, unversioned (`wasi:cli/environment`). */
  imports: string[];
  exports: string[];
}

const unversioned = (name: string) => name.replace(/@[^@/]*$/, '');

export async function transpileComponent(bytes: Uint8Array): Promise<TranspiledComponent> {
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
    imports: [...new Set(out.imports.map(unversioned))],
    exports: [...new Set(out.exports.map(([n]) => unversioned(n)).filter((n) => n.includes(':')))],
  };
}

type Instantiate = (
  getCoreModule: (name: string) => Promise<WebAssembly.Module>,
  imports: Record<string, Record<string, unknown>>,
) => Promise<Record<string, unknown>>;

/**
 * The glue's `instantiate`, evaluated in this realm: its `export`s made local, the function returned.
 * `import.meta` (only in its fallback for a missing getCoreModule, which berth always passes) is not
 * allowed outside a module: it becomes an object of this realm's location.
 */
function evaluateGlue(glue: string): Instantiate {
  const source = glue
    .replace(/^export (function|const|let|class|async function) /gm, '$1 ')
    .replace(/import\.meta/g, '({ url: "about:berth-component" })');
  const body = `${source}\nreturn instantiate;`;
  // The glue is jco's output for the component (the same code a build would ship), not the
  // component's own: the component stays inside its core modules and berth's host.
  return new Function(body)() as Instantiate;
}

/** A LoadedComponent from a transpiled one (fresh instances, modules compiled once). */
export function loadTranspiled(t: TranspiledComponent, maxMemoryBytes?: number): LoadedComponent {
  const instantiate = evaluateGlue(t.glue);
  const compiled = new Map<string, Promise<WebAssembly.Module>>();
  const getCoreModule = (name: string) => {
    let m = compiled.get(name);
    if (!m) {
      const raw = t.modules[name];
      if (!raw) throw new RuntimeError('internal', `jco's glue asked for ${name}, which it did not write`);
      const core = maxMemoryBytes === undefined ? raw : limitMemory(raw, maxMemoryBytes);
      m = WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
      compiled.set(name, m);
    }
    return m;
  };
  return { imports: t.imports, exports: t.exports, instantiate: (imports) => instantiate(getCoreModule, imports) };
}

/** Transpiles each component once per realm (by key and memory cap). */
export function componentLoader(
  transpile: (bytes: Uint8Array) => Promise<TranspiledComponent> = transpileComponent,
): ComponentLoader {
  const loaded = new Map<string, Promise<LoadedComponent>>();
  return {
    get(key, load, options = {}) {
      const k = `${key}:${options.maxMemoryBytes ?? ''}`;
      let c = loaded.get(k);
      if (!c) {
        c = load()
          .then(transpile)
          .then((t) => loadTranspiled(t, options.maxMemoryBytes));
        c.catch(() => loaded.delete(k));
        loaded.set(k, c);
      }
      return c;
    },
  };
}
