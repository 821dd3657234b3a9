// The behaviour every ContentStore backend must have, as plain async checks with no test
// framework, so the same checks run under vitest in Node (memory, fs) and inside Chromium
// (IndexedDB). Each check throws on failure.
import { sha256, type Digest } from '../../runtime/core/index.ts';
import type { ContentStore } from '../../runtime/content/index.ts';

export interface Check {
  name: string;
  run(): Promise<void>;
}

const enc = new TextEncoder();

function assert(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(`check failed: ${message}`);
}

function same(a: unknown, b: unknown, what: string): void {
  const j = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? [...v] : v));
  assert(j(a) === j(b), `${what}: got ${j(a)}, expected ${j(b)}`);
}

async function rejectsWith(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert(
      (e as { code?: string }).code === code,
      `${what}: failed with ${(e as { code?: string }).code ?? String(e)}, expected ${code}`,
    );
    return;
  }
  assert(false, `${what}: succeeded, expected ${code}`);
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}

export function contentStoreChecks(make: () => Promise<ContentStore>): Check[] {
  return [
    {
      name: 'commits a verified blob and reads it back as a Blob',
      async run() {
        const store = await make();
        const data = enc.encode('hello blob');
        const digest = await sha256(data);
        const info = await store.put({ digest, size: data.length }, data);
        same([info.digest, info.size], [digest, data.length], 'put info');
        const blob = await store.get(digest);
        assert(blob instanceof Blob, 'get returns a Blob');
        same(new Uint8Array(await blob.arrayBuffer()), data, 'bytes read back');
        same((await store.info(digest))?.size, data.length, 'info size');
      },
    },
    {
      name: 'accepts streams and reports progress',
      async run() {
        const store = await make();
        const digest = await sha256(enc.encode('abcdefgh'));
        const seen: number[] = [];
        await store.put({ digest, size: 8 }, streamOf([enc.encode('abc'), enc.encode('defgh')]), {
          onProgress: (p) => seen.push(p.done),
        });
        same(seen, [3, 8], 'progress');
        same(await (await store.get(digest))!.text(), 'abcdefgh', 'stream content');
      },
    },
    {
      name: 'refuses a digest mismatch and leaves nothing behind',
      async run() {
        const store = await make();
        const digest = await sha256(enc.encode('expected'));
        await rejectsWith(store.put({ digest }, enc.encode('tampered')), 'data-loss', 'tampered put');
        same(await store.get(digest), undefined, 'nothing stored');
        same(await store.list(), [], 'list empty');
      },
    },
    {
      name: 'refuses a short or long read against the declared size',
      async run() {
        const store = await make();
        const data = enc.encode('0123456789');
        const digest = await sha256(data);
        await rejectsWith(store.put({ digest, size: 11 }, data), 'data-loss', 'short');
        await rejectsWith(store.put({ digest, size: 9 }, streamOf([data])), 'data-loss', 'long');
        same(await store.info(digest), undefined, 'nothing stored');
      },
    },
    {
      name: 'refuses a stream longer than declared as soon as it is, without reading the rest',
      async run() {
        const store = await make();
        const data = enc.encode('0123456789');
        let pulled = 0;
        const endless = new ReadableStream<Uint8Array>(
          {
            pull(c) {
              pulled++;
              c.enqueue(data);
            },
          },
          { highWaterMark: 0 },
        );
        await rejectsWith(store.put({ digest: await sha256(data), size: 25 }, endless), 'data-loss', 'endless');
        assert(pulled <= 4, `pulled ${pulled} chunks of an endless stream declared as 25 bytes`);
        same(await store.list(), [], 'list empty');
      },
    },
    {
      name: 'commits only after beforeCommit resolves, and nothing if it throws',
      async run() {
        const store = await make();
        const data = enc.encode('gated blob');
        const digest = await sha256(data);
        await rejectsWith(
          store.put({ digest }, streamOf([data]), {
            beforeCommit: async () => {
              throw Object.assign(new Error('the source blob did not verify'), { code: 'data-loss' });
            },
          }),
          'data-loss',
          'refused by beforeCommit',
        );
        same(await store.info(digest), undefined, 'nothing committed');
        same(await store.list(), [], 'list empty');
        let open!: () => void;
        const gate = new Promise<void>((r) => {
          open = r;
        });
        let verified = false;
        const put = store.put({ digest }, streamOf([data]), {
          beforeCommit: () => {
            verified = true;
            return gate;
          },
        });
        for (let i = 0; i < 100 && !verified; i++) await new Promise((r) => setTimeout(r, 5));
        assert(verified, 'beforeCommit called once the bytes are in');
        same(await store.info(digest), undefined, 'invisible while the gate is shut');
        open();
        await put;
        same(await (await store.get(digest))!.text(), 'gated blob', 'committed after the gate');
      },
    },
    {
      name: 'treats writing an existing blob as a no-op',
      async run() {
        const store = await make();
        const data = enc.encode('twice');
        const digest = await sha256(data);
        const first = await store.put({ digest }, data);
        const second = await store.put({ digest }, data);
        same(second.created, first.created, 'created unchanged');
        same(
          (await store.list()).map((b) => b.digest),
          [digest],
          'one blob',
        );
      },
    },
    {
      name: 'lists and deletes',
      async run() {
        const store = await make();
        const digests: Digest[] = [];
        for (const s of ['a', 'b', 'c']) {
          const d = enc.encode(s);
          digests.push((await store.put({ digest: await sha256(d) }, d)).digest);
        }
        same((await store.list()).map((b) => b.digest).sort(), [...digests].sort(), 'listed');
        same(await store.delete(digests[1]), true, 'first delete');
        same(await store.delete(digests[1]), false, 'second delete');
        same(await store.get(digests[1]), undefined, 'deleted blob gone');
        same((await store.list()).length, 2, 'two left');
      },
    },
  ];
}
