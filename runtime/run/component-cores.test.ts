// A component's core modules are kept as they are run (capped, metered) beside the engine's code,
// so a browser restart or a new worker does not cap and meter them again (0.3 s for the 13 MB core
// module of a ComponentizeJS handler). Node has no Cache API: the stores here are in-memory
// stand-ins with its shape (a Response per key, read as the browser would); the component is a real
// one built in the repo and transpiled by jco's bindgen.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cacheApiTranspiledStore,
  componentLoader,
  runComponent,
  type TranspiledComponent,
  type TranspiledStore,
  transpileComponent,
} from '../component/index.ts';
import { MemTree } from '../vfs/index.ts';
import { instrumentDeadline, limitMemory } from '../wasm/index.ts';
import { type CompiledModuleStore, ModuleCache } from './module-cache.ts';

const echoPath = fileURLToPath(new URL('../../tests/fixtures/components/echo.component.wasm', import.meta.url));
const CAP = 16 * 2 ** 20;

class MemoryTranspiled implements TranspiledStore {
  readonly entries = new Map<string, TranspiledComponent>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async put(key: string, t: TranspiledComponent) {
    this.entries.set(key, t);
  }
}

class MemoryModules implements CompiledModuleStore {
  readonly entries = new Map<string, Uint8Array>();
  async match(key: string) {
    const b = this.entries.get(key);
    return b && new Response(b as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/wasm' } });
  }
  async put(key: string, bytes: Uint8Array) {
    this.entries.set(key, bytes.slice());
  }
}

/** compileCore over a fresh ModuleCache on `store` (a realm of its own), counting the bytes it had to read. */
function cores(store: CompiledModuleStore) {
  const cache = new ModuleCache(undefined, undefined, store);
  const counted = { reads: 0 };
  const compileCore = (key: string, bytes: () => Promise<Uint8Array>) =>
    cache.get(key, () => {
      counted.reads++;
      return bytes();
    });
  return { compileCore, counted };
}

const noLoad = () => Promise.reject(new Error('a realm that cannot transpile must not read the component'));

async function echo(loaded: Awaited<ReturnType<ReturnType<typeof componentLoader>['get']>>, input: string) {
  const out: Uint8Array[] = [];
  const r = await runComponent(loaded, {
    args: ['echo'],
    env: {},
    root: new MemTree().createRoot(),
    stdin: new TextEncoder().encode(input),
    stdout: (c) => out.push(c.slice()),
  });
  return { exitCode: r.exitCode, stdout: Buffer.concat(out).toString() };
}

describe("a component's core modules, kept compiled", () => {
  let bytes: Uint8Array;
  let transpiled: TranspiledComponent;
  beforeAll(async () => {
    bytes = new Uint8Array(await readFile(echoPath));
    transpiled = await transpileComponent(bytes, 'sync');
  }, 60_000);

  it('are kept at prepare as run, and a later realm compiles from them without reading the component', async () => {
    const kept = new MemoryModules();
    const store = new MemoryTranspiled();
    const prep = cores(kept);
    await componentLoader({ transpile: async () => transpiled, store, meter: true, compileCore: prep.compileCore })
      .prepare!('img:/echo.wasm', async () => bytes, { maxMemoryBytes: CAP });
    const names = Object.keys(transpiled.modules);
    expect(prep.counted.reads).toBe(names.length);
    expect(kept.entries.size).toBe(names.length);
    // Each kept module is its core module capped and then metered, byte for byte.
    for (const name of names) {
      const key = [...kept.entries.keys()].find((k) => JSON.parse(k)[2] === name)!;
      expect(JSON.parse(key).slice(1)).toEqual(['img:/echo.wasm', name, CAP, true]);
      const raw = transpiled.modules[name] as Uint8Array;
      expect(kept.entries.get(key)).toEqual(instrumentDeadline(limitMemory(raw, CAP)));
    }

    // The Service Worker after a restart: only the stores, a cache of its own.
    const later = cores(kept);
    const loaded = await componentLoader({ store, meter: true, compileCore: later.compileCore }).get(
      'img:/echo.wasm',
      noLoad,
      { maxMemoryBytes: CAP },
    );
    expect(await echo(loaded, 'kept\n')).toEqual({ exitCode: 0, stdout: 'kept\n' });
    expect(later.counted.reads).toBe(0);
  });

  it('are kept per memory cap and per metering: another cap or unmetered compiles its own', async () => {
    const kept = new MemoryModules();
    const store = new MemoryTranspiled();
    const first = cores(kept);
    await componentLoader({ transpile: async () => transpiled, store, meter: true, compileCore: first.compileCore })
      .prepare!('img:/echo.wasm', async () => bytes, { maxMemoryBytes: CAP });
    const n = Object.keys(transpiled.modules).length;

    const other = cores(kept);
    const capped = await componentLoader({ store, meter: true, compileCore: other.compileCore }).get(
      'img:/echo.wasm',
      noLoad,
      { maxMemoryBytes: 2 * CAP },
    );
    expect(await echo(capped, 'x')).toMatchObject({ stdout: 'x' });
    expect(other.counted.reads).toBe(n);

    const unmetered = cores(kept);
    const plain = await componentLoader({ store, compileCore: unmetered.compileCore }).get('img:/echo.wasm', noLoad, {
      maxMemoryBytes: CAP,
    });
    expect(await echo(plain, 'y')).toMatchObject({ stdout: 'y' });
    expect(unmetered.counted.reads).toBe(n);
    expect(kept.entries.size).toBe(3 * n);
  });
});

// The transpiled store over the Cache API, with a stand-in of it (Node has none): a Response per
// URL, kept as its body's bytes.
describe('transpiled components in the Cache API', () => {
  const bodies = new Map<string, Uint8Array>();
  beforeAll(() => {
    vi.stubGlobal('location', { origin: 'https://berth.test' });
    vi.stubGlobal('caches', {
      open: async () => ({
        match: async (url: string) => {
          const b = bodies.get(url);
          return b && new Response(b as Uint8Array<ArrayBuffer>);
        },
        put: async (url: string, r: Response) => void bodies.set(url, new Uint8Array(await r.arrayBuffer())),
      }),
    });
  });
  afterEach(() => bodies.clear());

  it('give back the glue and each module as a Blob of the same bytes', async () => {
    const t = await transpileComponent(new Uint8Array(await readFile(echoPath)), 'sync');
    const store = cacheApiTranspiledStore()!;
    await store.put('k', t);
    const back = (await store.get('k'))!;
    expect(back.glue).toBe(t.glue);
    expect(back.exports).toEqual(t.exports);
    expect(Object.keys(back.modules)).toEqual(Object.keys(t.modules));
    for (const [name, b] of Object.entries(back.modules)) {
      expect(b).toBeInstanceOf(Blob);
      expect(new Uint8Array(await (b as Blob).arrayBuffer())).toEqual(t.modules[name]);
    }
    // A put of what was read (Blobs) keeps the same entry.
    const before = [...bodies.values()][0]!;
    await store.put('k', back);
    expect([...bodies.values()][0]).toEqual(before);
  }, 60_000);

  it('refuse an entry whose modules are cut short, rather than compiling part of one', async () => {
    const t = await transpileComponent(new Uint8Array(await readFile(echoPath)), 'sync');
    const store = cacheApiTranspiledStore()!;
    await store.put('k', t);
    const [url, body] = [...bodies.entries()][0]!;
    bodies.set(url, body.subarray(0, body.length - 100));
    await expect(store.get('k')).rejects.toThrow(/damaged/);
  }, 60_000);
});
