// Properties of berth's decompressors (fast-check), against the reference tools: what node:zlib
// gzips at any level, in one member or several, each of berth's gunzips (pako, native, and the
// checkpointing one that builds the seek index) gives back byte for byte, and every span read
// through the seek index alone agrees; what the zstd CLI compresses, unzstdStream gives back;
// arbitrary and mutated streams end in bytes or berth's RuntimeError, never another error.
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isRuntimeError, MediaType } from '../core/index.ts';
import { decompressLayer } from './decompress-layer.ts';
import {
  checkpointingGunzip,
  decodeSeekIndex,
  encodeSeekIndex,
  inflateSpan,
  seekSpans,
  spanInput,
} from './gzip-seek.ts';
import { streamOfBytes } from './split-stream.ts';
import { unzstdStream } from './unzstd-stream.ts';

async function collect(s: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) return Buffer.concat(parts);
    parts.push(value);
  }
}

/** Compressible bytes: runs and repeats of a small alphabet, with some noise. */
const payload = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 5000 }))
        .map(([b, n]) => new Uint8Array(n).fill(b)),
    ),
    { maxLength: 40 },
  )
  .map((parts) => new Uint8Array(Buffer.concat(parts)));

const typedOrNothing = (e: unknown) => expect(isRuntimeError(e), String(e)).toBe(true);

describe('gzip', () => {
  test.prop(
    [
      fc.array(payload, { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 5000 }),
    ],
    { numRuns: 60 },
  )(
    'every gunzip gives back what node:zlib gzipped; the seek index reads every span alone',
    async (members, level, chunk) => {
      const plain = Buffer.concat(members);
      const gz = new Uint8Array(Buffer.concat(members.map((m) => gzipSync(m, { level }))));
      expect(
        (await collect(decompressLayer(streamOfBytes(gz, chunk), MediaType.OciLayerGzip, { usePako: true }))).equals(
          plain,
        ),
      ).toBe(true);
      expect((await collect(decompressLayer(streamOfBytes(gz, chunk), MediaType.OciLayerGzip))).equals(plain)).toBe(
        true,
      );
      const g = checkpointingGunzip(streamOfBytes(gz, chunk), 4096, 1000, 512);
      expect((await collect(g.output)).equals(plain)).toBe(true);
      const index = decodeSeekIndex(encodeSeekIndex(g.index()));
      expect(Buffer.from(seekSpans(index, gz)).equals(plain)).toBe(true);
      let at = 0;
      for (let i = 0; i < index.checkpoints.length; i++) {
        const { start, end } = spanInput(index, i);
        const span = inflateSpan(index, i, gz.subarray(start, end));
        expect(Buffer.from(span).equals(plain.subarray(at, at + span.length))).toBe(true);
        at += span.length;
      }
      expect(at).toBe(plain.length);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 2048 })], { numRuns: 200 })(
    'arbitrary bytes: output or RuntimeError',
    async (bytes) => {
      await collect(checkpointingGunzip(streamOfBytes(bytes, 300)).output).catch(typedOrNothing);
      await collect(decompressLayer(streamOfBytes(bytes, 300), MediaType.OciLayerGzip, { usePako: true })).catch(
        typedOrNothing,
      );
      await collect(decompressLayer(streamOfBytes(bytes, 300), MediaType.OciLayerGzip)).catch(typedOrNothing);
    },
  );

  test.prop([payload, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })], {
    numRuns: 150,
  })(
    'a gzip stream with bytes changed: output or RuntimeError; where pako and the checkpointing gunzip both give output, the same',
    async (plain, edits) => {
      const gz = new Uint8Array(gzipSync(plain));
      for (const [at, v] of edits) gz[at % gz.length] = v;
      const a = await collect(checkpointingGunzip(streamOfBytes(gz, 700)).output).then(
        (b) => ({ ok: b }),
        (e: unknown) => (typedOrNothing(e), { failed: true }),
      );
      const b = await collect(decompressLayer(streamOfBytes(gz, 700), MediaType.OciLayerGzip, { usePako: true })).then(
        (b) => ({ ok: b }),
        (e: unknown) => (typedOrNothing(e), { failed: true }),
      );
      // Not "both or neither": the checkpointing gunzip skips the CRC-32 by design (gzip-seek.ts:
      // the blob's digest and the tar's diff_id check the bytes), so a changed trailer passes there.
      if ('ok' in a && 'ok' in b) expect(a.ok.equals(b.ok)).toBe(true);
      if ('ok' in b) expect('ok' in a).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 600 })], { numRuns: 300 })(
    'a seek index from outside: decoded or RuntimeError',
    (bytes) => {
      try {
        decodeSeekIndex(bytes);
      } catch (e) {
        typedOrNothing(e);
      }
    },
  );
});

describe('zstd', () => {
  test.prop([payload, fc.constantFrom('-1', '-3', '-19')], { numRuns: 25 })(
    'unzstdStream gives back what the zstd CLI compressed',
    async (plain, level) => {
      const z = new Uint8Array(execFileSync('zstd', ['-c', '-q', level], { input: plain }));
      expect((await collect(unzstdStream(streamOfBytes(z, 999)))).equals(Buffer.from(plain))).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 2048 })], { numRuns: 200 })(
    'arbitrary bytes: output or RuntimeError',
    async (bytes) => {
      await collect(unzstdStream(streamOfBytes(bytes, 300))).catch(typedOrNothing);
    },
  );
});
