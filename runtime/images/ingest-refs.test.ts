// A name is a reference at every door: an archive's or a link's names were stored as they came, so
// one with bidirectional controls (`nginx:latest` then U+202E U+2066) showed in the UI as a name it
// is not. Now each is parsed as a reference before anything is stored.
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryRecords } from '../content/index.ts';
import { isRuntimeError } from '../core/index.ts';
import { ImageStore } from './image-store.ts';
import { importLayout, layoutFiles, packImage } from './index.ts';

const WASM = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

async function importNamed(name: string) {
  const packed = await packImage({ wasm: WASM });
  const files = layoutFiles(packed.blobs, [{ name, manifest: packed.manifestDescriptor }]);
  const store = new ImageStore({ content: new MemoryContentStore(), records: new MemoryRecords() });
  const result = await importLayout(store, { read: async (p) => files.get(p) ?? Promise.reject(new Error(p)) }).catch(
    (e: unknown) => e,
  );
  return { result, stored: await store.list() };
}

describe('names of imported images', () => {
  it.each(['docker.io/library/nginx:latest\u202e\u2066', 'localhost/a\u200b/b:1', 'Upper/case:1', 'a b:1'])(
    'refuses %j and stores nothing',
    async (name) => {
      const { result, stored } = await importNamed(name);
      expect(isRuntimeError(result, 'invalid-argument'), String(result)).toBe(true);
      expect(stored).toEqual([]);
    },
  );

  it('takes a reference', async () => {
    const { result, stored } = await importNamed('localhost/workshop/x:1');
    expect(result).not.toBeInstanceOf(Error);
    expect(stored.map((i) => i.ref)).toEqual(['localhost/workshop/x:1']);
  });
});
