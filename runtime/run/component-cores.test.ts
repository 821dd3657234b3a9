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
  GLUE_VERSION,
  loadTranspiled,
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

const bytesOf = async (path: string) => new Uint8Array(await readFile(path));

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
        delete: async (url: string) => bodies.delete(url),
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

  // A byte of a core module changed, every size kept: found when the module's bytes are read (a
  // kept compiled form spares reading them), the run fails, and the entry is forgotten. A realm
  // that can transpile makes it again at its next run; one that cannot then says it is unprepared.
  it('tell a damaged core module when they read it, and forget the entry', async () => {
    const t = await transpileComponent(new Uint8Array(await readFile(echoPath)), 'sync');
    const store = cacheApiTranspiledStore()!;
    const key = `${GLUE_VERSION}:sync:k`;
    await store.put(key, t);
    const [url, body] = [...bodies.entries()][0]!;
    const good = body.slice();
    body[body.length - 50] ^= 0x01;
    // The Service Worker's loader: the store only.
    const sw = await componentLoader({ store }).get('k', noLoad);
    await expect(echo(sw, 'x')).rejects.toThrow(/damaged \(its component\.core\w*\.wasm is not what it was\)/);
    await expect.poll(() => bodies.has(url)).toBe(false);
    await expect(componentLoader({ store }).get('k', noLoad)).rejects.toThrow(/not been prepared/);

    // A worker's loader, the entry damaged again: its next run transpiles and keeps it anew.
    bodies.set(url, body);
    const worker = componentLoader({ transpile: async () => t, store });
    await expect(echo(await worker.get('k', async () => bytesOf(echoPath)), 'y')).rejects.toThrow(/damaged/);
    expect(await echo(await worker.get('k', async () => bytesOf(echoPath)), 'z')).toEqual({ exitCode: 0, stdout: 'z' });
    expect(bodies.get(url)).toEqual(good);
  }, 60_000);

  it('refuse an entry whose glue was changed, every size kept', async () => {
    const t = await transpileComponent(new Uint8Array(await readFile(echoPath)), 'sync');
    const store = cacheApiTranspiledStore()!;
    await store.put('k', t);
    const body = [...bodies.values()][0]!;
    body[Buffer.from(body).indexOf('export function instantiate(') + 7] ^= 0x20;
    await expect(store.get('k')).rejects.toThrow(/damaged \(its glue is not what it was\)/);
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

describe('a core module whose compile failed', () => {
  it('is compiled again by the next run (a failure is not kept)', async () => {
    const t = await transpileComponent(new Uint8Array(await readFile(echoPath)), 'sync');
    let failures = 1;
    const loaded = loadTranspiled(t, {
      compile: async (_name, bytes) => {
        if (failures-- > 0) throw new DOMException('the blob could not be read', 'NotReadableError');
        return WebAssembly.compile((await bytes()) as Uint8Array<ArrayBuffer>);
      },
    });
    await expect(echo(loaded, 'a')).rejects.toThrow(/could not be read/);
    expect(await echo(loaded, 'b')).toEqual({ exitCode: 0, stdout: 'b' });
  }, 60_000);
});

// Core modules are kept without the glue's variant in their key: the bindgen must give the same
// bytes in both (a bindgen that does not fails here, not in a service).
describe("the variants' core modules", () => {
  it.each(['echo', 'hello-http', 'args-env', 'churn'])(
    'are the same bytes for %s',
    async (name) => {
      const bytes = new Uint8Array(
        await readFile(
          fileURLToPath(new URL(`../../tests/fixtures/components/${name}.component.wasm`, import.meta.url)),
        ),
      );
      const sync = await transpileComponent(bytes, 'sync');
      const jspi = await transpileComponent(bytes, 'jspi');
      expect(Object.keys(jspi.modules)).toEqual(Object.keys(sync.modules));
      // Buffer.equals: toEqual walks 13 MB an element at a time (80 s).
      for (const n of Object.keys(sync.modules))
        expect(Buffer.from(jspi.modules[n] as Uint8Array).equals(sync.modules[n] as Uint8Array), n).toBe(true);
    },
    120_000,
  );
});
