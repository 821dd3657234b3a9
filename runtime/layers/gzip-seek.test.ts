// The gzip seek index against node:zlib: the stream it gunzips is the one zlib gives, and every span
// inflated from its checkpoint alone is the same bytes, for streams made by gzip -1/-9, several
// members, and incompressible and very compressible data; hostile streams fail as data-loss.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RuntimeError } from '../core/index.ts';
import { streamOf } from '../../tests/suites/layer-helpers.ts';
import {
  checkpointFor,
  checkpointingGunzip,
  decodeSeekIndex,
  encodeSeekIndex,
  inflateSpan,
  MIN_SPAN_IN,
  seekSpans,
  spanInput,
  type GzipSeekIndex,
} from './gzip-seek.ts';
import { seekableGzipSource, SpanCache } from '../run/byte-sources.ts';
import { BytesPending } from '../core/index.ts';

async function gunzipIndexed(gz: Uint8Array, span: number, inChunk = 8192, spanIn = 1024) {
  const g = checkpointingGunzip(streamOf(gz, inChunk), span, 10_000, spanIn);
  const parts: Uint8Array[] = [];
  for await (const c of g.output as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return { out: new Uint8Array(Buffer.concat(parts)), index: g.index() };
}

/** Text-like data: words, numbers, and copies reaching back up to 32 KiB (so windows matter). */
function texty(n: number): Uint8Array {
  const enc = new TextEncoder();
  const words = Array.from({ length: 300 }, (_, i) => enc.encode(`${i.toString(36)}${'wasmberthlayer'.slice(i % 9)} `));
  const out = new Uint8Array(n);
  let at = 0;
  let k = 0x9e3779b9;
  const rand = () => {
    k ^= k << 13;
    k ^= k >>> 17;
    k ^= k << 5;
    return k >>> 0;
  };
  while (at < n) {
    const r = rand();
    if (r % 11 === 0 && at > 32768) {
      const len = 40 + (r % 200);
      const from = at - 1 - (rand() % 32000);
      for (let j = 0; j < len && at < n; j++) out[at++] = out[from + j];
    } else {
      const w = words[r % words.length];
      for (let j = 0; j < w.length && at < n; j++) out[at++] = w[j];
      if (r % 7 === 0 && at < n) out[at++] = 48 + (rand() % 10);
    }
  }
  return out;
}

function gzipCli(data: Uint8Array, level: number): Uint8Array {
  return new Uint8Array(execFileSync('gzip', [`-${level}`, '-c'], { input: data, maxBuffer: 1 << 28 }));
}

const cases: [string, () => { raw: Uint8Array; gz: Uint8Array }][] = [
  ['text, gzip -9', () => ((raw) => ({ raw, gz: gzipCli(raw, 9) }))(texty(3_000_000))],
  ['text, gzip -1', () => ((raw) => ({ raw, gz: gzipCli(raw, 1) }))(texty(3_000_000))],
  ['random (stored blocks)', () => ((raw) => ({ raw, gz: new Uint8Array(gzipSync(raw)) }))(randomBytes(2_000_000))],
  ['zeros (long matches)', () => ((raw) => ({ raw, gz: new Uint8Array(gzipSync(raw)) }))(new Uint8Array(20_000_000))],
  [
    'three members',
    () => {
      const a = texty(1_500_000);
      const b = randomBytes(700_000);
      const c = texty(900_000).reverse();
      return {
        raw: new Uint8Array(Buffer.concat([a, b, c])),
        gz: new Uint8Array(Buffer.concat([gzipCli(a, 6), gzipSync(b), gzipCli(c, 1)])),
      };
    },
  ],
];

describe('gzip seek index', () => {
  it.each(cases)('%s: gunzips what zlib does and every span inflates alone to the same bytes', async (_n, make) => {
    const { raw, gz } = make();
    const { out, index } = await gunzipIndexed(gz, 256 * 1024);
    expect(Buffer.compare(out, gunzipSync(gz))).toBe(0);
    expect(Buffer.compare(out, raw)).toBe(0);
    expect(index.size).toBe(raw.length);
    expect(index.compressedSize).toBe(gz.length);
    // More than one checkpoint (else nothing was tested), each entered without what came before.
    expect(index.checkpoints.length).toBeGreaterThan(2);
    const decoded = decodeSeekIndex(encodeSeekIndex(index));
    expect(Buffer.compare(seekSpans(decoded, gz), raw)).toBe(0);
    for (let i = 1; i < decoded.checkpoints.length; i++) {
      const { start, end } = spanInput(decoded, i);
      const alone = new Uint8Array(gz.subarray(start, end)); // a copy: nothing before `start` reachable
      const span = inflateSpan(decoded, i, alone);
      const at = decoded.checkpoints[i].out;
      expect(Buffer.compare(span, raw.subarray(at, at + span.length)), `span ${i}`).toBe(0);
    }
  });

  it('keeps the index small: a raw 32 KiB window per 384 KiB of gzip at most', async () => {
    const raw = texty(16_000_000);
    const gz = gzipCli(raw, 6);
    const { index } = await gunzipIndexed(gz, 1 << 20, 65536, MIN_SPAN_IN);
    const bytes = encodeSeekIndex(index).length;
    expect(index.checkpoints.length).toBeGreaterThanOrEqual(4);
    expect(bytes / gz.length).toBeLessThan(0.09);
  });

  it('keeps spans short and the index small on data that compresses 1000x (windows deflated)', async () => {
    const raw = new Uint8Array(64 << 20);
    for (let i = 0; i < raw.length; i += 4096) raw[i] = i & 0xff;
    const gz = new Uint8Array(gzipSync(raw));
    const { index } = await gunzipIndexed(gz, 1 << 20, 65536, MIN_SPAN_IN);
    const spans = index.checkpoints.map((c, i) => (index.checkpoints[i + 1]?.out ?? index.size) - c.out);
    expect(Math.max(...spans)).toBeLessThan(6 << 20);
    expect(index.checkpoints.filter((c) => c.packed).length).toBeGreaterThan(10);
    const encoded = encodeSeekIndex(index);
    expect(encoded.length / gz.length).toBeLessThan(0.15);
    expect(Buffer.compare(seekSpans(decodeSeekIndex(encoded), gz), raw)).toBe(0);
  });

  it('reads through a ByteSource: sync reads, and BytesPending where reads cannot block', async () => {
    const raw = texty(4_000_000);
    const gz = gzipCli(raw, 6);
    const { index } = await gunzipIndexed(gz, 300_000);
    const sync = seekableGzipSource(
      index,
      { readSync: (s, e) => gz.slice(s, e), readAsync: async (s, e) => gz.slice(s, e) },
      new SpanCache(1 << 20),
    );
    for (const at of [0, 1, 299_999, 1_234_567, raw.length - 10]) {
      const buf = new Uint8Array(700_000);
      let got = 0;
      while (got < buf.length) {
        const n = sync.read(at + got, buf.subarray(got));
        if (n === 0) break;
        got += n;
      }
      expect(got).toBe(Math.min(buf.length, raw.length - at));
      expect(Buffer.compare(buf.subarray(0, got), raw.subarray(at, at + got))).toBe(0);
    }
    expect(sync.read(raw.length, new Uint8Array(10))).toBe(0);
    // Sources of the same layer (one key: its compressed digest) share the spans already inflated:
    // a later run reads them without touching the blob; another layer's source does not see them.
    const shared = new SpanCache(8 << 20);
    const io = {
      readSync: (s: number, e: number) => gz.slice(s, e),
      readAsync: async (s: number, e: number) => gz.slice(s, e),
    };
    seekableGzipSource(index, io, shared, 'sha256:layer').read(1_234_567, new Uint8Array(16));
    const untouchable = {
      readSync: (): Uint8Array => {
        throw new Error('read the blob again');
      },
      readAsync: async (): Promise<Uint8Array> => {
        throw new Error('read the blob again');
      },
    };
    const again = new Uint8Array(16);
    expect(seekableGzipSource(index, untouchable, shared, 'sha256:layer').read(1_234_567, again)).toBe(16);
    expect(Buffer.compare(again, raw.subarray(1_234_567, 1_234_583))).toBe(0);
    expect(() => seekableGzipSource(index, untouchable, shared, 'sha256:other').read(1_234_567, again)).toThrow(
      'read the blob again',
    );
    let loads = 0;
    const paged = seekableGzipSource(index, {
      readAsync: async (s, e) => {
        loads++;
        return gz.slice(s, e);
      },
    });
    const into = new Uint8Array(100);
    let pending: unknown;
    try {
      paged.read(2_000_000, into);
    } catch (e) {
      pending = e;
    }
    expect(pending).toBeInstanceOf(BytesPending);
    await (pending as BytesPending).load();
    expect(paged.read(2_000_000, into)).toBe(100);
    expect(Buffer.compare(into, raw.subarray(2_000_000, 2_000_100))).toBe(0);
    expect(loads).toBe(1);
  });

  it('refuses a truncated stream and invalid deflate data as data-loss, and reads input only as output is read', async () => {
    const gz = gzipCli(texty(2_000_000), 6);
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e as RuntimeError).code,
      );
    expect(await codeOf(gunzipIndexed(gz.subarray(0, gz.length - 5000), 1 << 20))).toBe('data-loss');
    // A block header of reserved type 3 right after the gzip header. (Other corruption may inflate to
    // wrong bytes without an error: deflate has no checksum; the digests catch it, see unpack-layer.)
    const bad = gz.slice();
    bad[10] = 0b111;
    expect(await codeOf(gunzipIndexed(bad, 1 << 20))).toBe('data-loss');
    // A bomb: 1 GiB of zeros in about 1 MB; reading a few output chunks pulls a few input chunks.
    const bomb = new Uint8Array(gzipSync(new Uint8Array(64 << 20)));
    let pulled = 0;
    const counted = streamOf(bomb, 1024).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(c, ctl) {
          pulled++;
          ctl.enqueue(c);
        },
      }),
    );
    const reader = checkpointingGunzip(counted).output.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    await reader.cancel();
    expect(pulled).toBeLessThan(12);
  });

  it('refuses a damaged stored index', () => {
    const index: GzipSeekIndex = {
      size: 100,
      compressedSize: 50,
      checkpoints: [{ out: 0, in: 0, bits: 0, window: new Uint8Array(0) }],
    };
    const good = encodeSeekIndex(index);
    expect(decodeSeekIndex(good).size).toBe(100);
    for (const bad of [good.subarray(0, 10), good.slice().fill(7, 0, 4), new Uint8Array([...good, 1])]) {
      expect(() => decodeSeekIndex(bad)).toThrow(/damaged/);
    }
    expect(checkpointFor(index, 99)).toBe(0);
  });
});
