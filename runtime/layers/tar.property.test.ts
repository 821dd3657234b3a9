// Properties of berth's tar reader and writer (fast-check): what writeTar writes, readTar reads back
// entry for entry (long names and link targets through pax included); bytes of any kind, and
// mutations of a real tar, end in entries or berth's RuntimeError, never another error or a hang.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isRuntimeError, RuntimeError } from '../core/index.ts';
import { indexLayer } from './index-layer.ts';
import { streamOf } from '../../tests/suites/layer-helpers.ts';
import { readTar } from './tar-reader.ts';
import { writeTar, type TarWriteEntry } from './write-tar.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9_ü.-]{1,40}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 8 }).map((p) => p.join('/'));
const entry: fc.Arbitrary<TarWriteEntry> = fc.oneof(
  fc.record({ path, type: fc.constant('dir' as const) }),
  fc.record({ path, type: fc.constant('file' as const), data: fc.uint8Array({ maxLength: 3000 }) }),
  fc.record({
    path,
    type: fc.constant('symlink' as const),
    linkname: fc.oneof(
      path,
      path.map((p) => `/${p}`),
    ),
  }),
);
const entries = fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 12 });

async function readAll(bytes: Uint8Array, chunk = 700) {
  const out: { path: string; type: string; linkname: string; data: Uint8Array }[] = [];
  for await (const e of readTar(streamOf(bytes, chunk), { maxSize: 1 << 24 }))
    out.push({ path: e.path, type: e.type, linkname: e.linkname, data: await e.bytes() });
  return out;
}

describe('tar', () => {
  test.prop([entries, fc.integer({ min: 1, max: 4096 })], { numRuns: 150 })(
    'readTar reads back what writeTar wrote',
    async (written, chunk) => {
      const read = await readAll(writeTar(written), chunk);
      expect(read.map((e) => [e.path.replace(/\/$/, ''), e.type])).toEqual(
        written.map((e) => [e.path.replace(/^\/+/, ''), e.type]),
      );
      for (const [i, e] of written.entries()) {
        if (e.type === 'file') expect(Buffer.from(read[i].data).equals(Buffer.from(e.data ?? []))).toBe(true);
        if (e.type === 'symlink') expect(read[i].linkname).toBe(e.linkname);
      }
    },
  );

  test.prop([fc.uint8Array({ maxLength: 4096 })], { numRuns: 300 })(
    'arbitrary bytes: entries or RuntimeError',
    async (bytes) => {
      await readAll(bytes).catch((e) => expect(e).toBeInstanceOf(RuntimeError));
    },
  );

  test.prop(
    [
      entries.filter((e) => e.length > 0),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
    ],
    { numRuns: 300 },
  )('a real tar with bytes changed: entries or RuntimeError', async (written, changes) => {
    const bytes = writeTar(written);
    for (const [at, b] of changes) bytes[at % bytes.length] = b;
    await readAll(bytes).catch((e) => expect(e).toBeInstanceOf(RuntimeError));
  });

  // Paths a hostile layer uses to reach outside the root.
  const hostileSegment = fc.oneof(segment, fc.constantFrom('..', '.', '', '../..', '...'));
  const hostilePath = fc.oneof(
    fc.array(hostileSegment, { minLength: 1, maxLength: 6 }).map((p) => p.join('/')),
    fc.array(hostileSegment, { minLength: 1, maxLength: 6 }).map((p) => `/${p.join('/')}`),
  );
  const hostileEntry: fc.Arbitrary<TarWriteEntry> = fc.oneof(
    fc.record({ path: hostilePath, type: fc.constant('file' as const), data: fc.uint8Array({ maxLength: 64 }) }),
    fc.record({ path: hostilePath, type: fc.constant('dir' as const) }),
    fc.record({ path: hostilePath, type: fc.constant('symlink' as const), linkname: hostilePath }),
  );
  test.prop([fc.array(hostileEntry, { minLength: 1, maxLength: 10 })], { numRuns: 300 })(
    'a layer with .., . and absolute paths: indexed paths stay inside the root, or RuntimeError',
    async (written) => {
      try {
        const index = await indexLayer(streamOf(writeTar(written), 513));
        for (const e of index.entries) {
          expect(e.path).not.toBe('');
          expect(e.path.startsWith('/')).toBe(false);
          expect(e.path.split('/').some((c) => c === '..' || c === '.' || c === '')).toBe(false);
        }
      } catch (e) {
        expect(e).toBeInstanceOf(RuntimeError);
      }
    },
  );

  test.prop([entries.filter((e) => e.length > 0), fc.integer({ min: 0, max: 20_000 })], { numRuns: 200 })(
    'a tar longer than maxSize is refused (resource-exhausted) before more than maxSize bytes are read',
    async (written, maxSize) => {
      const bytes = writeTar(written);
      let pulled = 0;
      const counted = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += 700) c.enqueue(bytes.subarray(i, i + 700));
          c.close();
        },
      }).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            pulled += chunk.length;
            c.enqueue(chunk);
          },
        }),
      );
      const read = readTar(counted, { maxSize });
      try {
        for await (const e of read) await e.bytes();
        await read.drain();
        expect(bytes.length).toBeLessThanOrEqual(maxSize);
      } catch (e) {
        expect(isRuntimeError(e, 'resource-exhausted'), String(e)).toBe(true);
        expect(bytes.length).toBeGreaterThan(maxSize);
        // Refused as the cap was crossed: at most one more chunk than the cap was taken in.
        expect(pulled).toBeLessThanOrEqual(maxSize + 700 * 3);
      }
    },
  );
});
