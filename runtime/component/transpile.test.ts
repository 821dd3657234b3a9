// The component loader of a realm that cannot transpile (the Service Worker): it runs only what
// another realm kept. The store here is an in-memory stand-in for the Cache API, which Node lacks;
// the component is a real one built in the repo, transpiled by jco's bindgen.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../core/index.ts';
import {
  componentLoader,
  GLUE_VERSION,
  mendGlue,
  type TranspiledComponent,
  type TranspiledStore,
  transpileComponent,
} from './transpile.ts';

const echo = fileURLToPath(new URL('../../tests/fixtures/components/echo.component.wasm', import.meta.url));

class MemoryStore implements TranspiledStore {
  readonly entries = new Map<string, TranspiledComponent>();
  gets = 0;
  /** What each get does before it answers: a test makes it fail or fill the store. */
  onGet: (n: number) => void = () => {};
  async get(key: string) {
    this.onGet(++this.gets);
    return this.entries.get(key);
  }
  async put(key: string, t: TranspiledComponent) {
    this.entries.set(key, t);
  }
}

const noLoad = () => Promise.reject(new Error('a realm that cannot transpile must not read the component'));

describe('componentLoader in a realm with only the store', () => {
  let transpiled: TranspiledComponent;
  beforeAll(async () => {
    transpiled = await transpileComponent(new Uint8Array(await readFile(echo)), 'sync');
  }, 60_000);

  it('runs what another realm kept, under the same key', async () => {
    const store = new MemoryStore();
    await componentLoader({ transpile: async () => transpiled, store }).prepare!('k', async () => new Uint8Array());
    expect([...store.entries.keys()]).toEqual([`${GLUE_VERSION}:sync:k`]);
    const swStore = new MemoryStore();
    swStore.entries.set(`${GLUE_VERSION}:sync:k`, store.entries.get(`${GLUE_VERSION}:sync:k`)!);
    const loaded = await componentLoader({ store: swStore }).get('k', noLoad);
    expect(loaded.exports).toEqual(transpiled.exports);
    expect(swStore.gets).toBe(1);
  });

  it('looks once more before it calls a component unprepared, and finds one kept meanwhile', async () => {
    const store = new MemoryStore();
    store.onGet = (n) => {
      if (n === 1) setTimeout(() => store.entries.set(`${GLUE_VERSION}:sync:k`, transpiled), 10);
    };
    const loaded = await componentLoader({ store }).get('k', noLoad);
    expect(loaded.imports).toEqual(transpiled.imports);
    expect(store.gets).toBe(2);
  });

  it('says it is unprepared when neither look finds it', async () => {
    const store = new MemoryStore();
    const e = await componentLoader({ store })
      .get('k', noLoad)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as RuntimeError).code).toBe('unimplemented');
    expect((e as Error).message).toMatch(/not been prepared for the Service Worker/);
    expect(store.gets).toBe(2);
  });

  it('says why when the store cannot be read, rather than calling it unprepared', async () => {
    const store = new MemoryStore();
    store.onGet = () => {
      throw new DOMException('the body could not be read', 'NotReadableError');
    };
    const e = await componentLoader({ store })
      .get('k', noLoad)
      .catch((x: unknown) => x);
    expect((e as RuntimeError).code).toBe('internal');
    expect((e as Error).message).toBe(
      "this component's prepared form could not be read from the cache (NotReadableError: the body could not be read)",
    );
  });

  it('does not keep a failure: a later request finds what was kept since', async () => {
    const store = new MemoryStore();
    const loader = componentLoader({ store });
    await expect(loader.get('k', noLoad)).rejects.toThrow(/not been prepared/);
    store.entries.set(`${GLUE_VERSION}:sync:k`, transpiled);
    await expect(loader.get('k', noLoad)).resolves.toMatchObject({ exports: transpiled.exports });
  });
});

// mendGlue works on exact texts of the pinned bindgen's glue: both variants must still have them
// (a jco upgrade that writes them differently fails here, not silently in a service).
describe("what berth changes of jco's glue", () => {
  it.each(['sync', 'jspi'] as const)(
    'finds and changes both texts in the %s glue',
    async (variant) => {
      const { glue } = await transpileComponent(new Uint8Array(await readFile(echo)), variant);
      expect(glue).toContain('table._createdReps.add(rep);');
      expect(glue).toContain('process?.env?.JCO_DEBUG');
      const mended = mendGlue(glue);
      expect(mended).not.toContain('_createdReps.add');
      expect(mended).not.toContain('JCO_DEBUG');
      expect(mended).toContain('const _debugLog = () => {};');
      expect(mended.length).toBeLessThan(glue.length);
    },
    60_000,
  );

  it('leaves the Set alone in glue that also reads it', () => {
    const glue = 'function f(table, rep) {\n  table._createdReps.add(rep);\n  return table._createdReps.has(rep);\n}';
    expect(mendGlue(glue)).toBe(glue);
  });
});
