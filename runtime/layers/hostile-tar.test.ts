// Archives a careful reader must refuse or normalise, built byte by byte.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MediaType } from '../core/index.ts';
import { rejectsWithCode, streamOf } from '../../tests/suites/layer-helpers.ts';
import { decompressLayer } from './decompress-layer.ts';
import { indexLayer } from './index-layer.ts';
import { readTar } from './tar-reader.ts';
import { writeTar } from './write-tar.ts';

interface Raw {
  name: string | Uint8Array;
  flag?: string;
  data?: Uint8Array;
  linkname?: string;
  mode?: number;
  base256Size?: boolean;
  checksum?: 'unsigned' | 'signed' | 'bad';
}

const enc = new TextEncoder();

function rawHeader(r: Raw): Uint8Array {
  const h = new Uint8Array(512);
  const name = typeof r.name === 'string' ? enc.encode(r.name) : r.name;
  h.set(name.subarray(0, 100), 0);
  const oct = (at: number, len: number, v: number) => h.set(enc.encode(v.toString(8).padStart(len - 1, '0')), at);
  oct(100, 8, r.mode ?? 0o644);
  oct(108, 8, 0);
  oct(116, 8, 0);
  const size = r.data?.length ?? 0;
  if (r.base256Size) {
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--) {
      h[i] = v & 0xff;
      v = Math.floor(v / 256);
    }
  } else oct(124, 12, size);
  oct(136, 12, 1_600_000_000);
  h[156] = (r.flag ?? '0').charCodeAt(0);
  if (r.linkname) h.set(enc.encode(r.linkname), 157);
  h.set(enc.encode('ustar\0'), 257);
  h.set(enc.encode('00'), 263);
  h.fill(0x20, 148, 156);
  let unsigned = 0;
  let signed = 0;
  for (const b of h) {
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const sum = r.checksum === 'signed' ? signed : r.checksum === 'bad' ? unsigned + 1 : unsigned;
  h.set(enc.encode(sum.toString(8).padStart(6, '0')), 148);
  h[154] = 0;
  return h;
}

function rawTar(entries: Raw[], end = true): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(rawHeader(e));
    if (e.data?.length) {
      const d = new Uint8Array(Math.ceil(e.data.length / 512) * 512);
      d.set(e.data);
      parts.push(d);
    }
  }
  if (end) parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const idx = (tar: Uint8Array, maxSize?: number) => indexLayer(streamOf(tar, 100), { maxSize });

describe('hostile and odd tars', () => {
  it("refuses '..' escapes (invalid-argument)", async () => {
    expect(await rejectsWithCode(idx(rawTar([{ name: '../x', data: enc.encode('x') }])))).toBe('invalid-argument');
    expect(await rejectsWithCode(idx(rawTar([{ name: 'a/../../x' }])))).toBe('invalid-argument');
    expect(await rejectsWithCode(idx(rawTar([{ name: 'ok', flag: '2', linkname: '../../anywhere' }])))).toBeUndefined();
  });

  it("normalises '/etc/x', './a/./b', 'a/../c' and trailing slashes", async () => {
    const index = await idx(
      rawTar([{ name: '/etc/x', data: enc.encode('abc') }, { name: './a/./b' }, { name: 'a/../c' }, { name: 'dir/', flag: '5' }, { name: './', flag: '5' }]),
    );
    expect(index.entries.map((e) => [e.path, e.type])).toEqual([
      ['etc/x', 'file'],
      ['a/b', 'file'],
      ['c', 'file'],
      ['dir', 'dir'],
    ]);
  });

  it('refuses a hardlink to a missing (or later) target', async () => {
    expect(await rejectsWithCode(idx(rawTar([{ name: 'l', flag: '1', linkname: 'missing' }])))).toBe('invalid-argument');
    expect(await rejectsWithCode(idx(rawTar([{ name: 'l', flag: '1', linkname: 'f' }, { name: 'f' }])))).toBe('invalid-argument');
    expect(await rejectsWithCode(idx(rawTar([{ name: 'd', flag: '5' }, { name: 'l', flag: '1', linkname: 'd' }])))).toBe('invalid-argument');
    const ok = await idx(rawTar([{ name: 'f' }, { name: 'l', flag: '1', linkname: './f' }]));
    expect(ok.entries[1]).toMatchObject({ type: 'hardlink', linkname: 'f' });
  });

  it('reports a truncated archive as data-loss, wherever it is cut', async () => {
    const tar = rawTar([{ name: 'a', data: new Uint8Array(3000).fill(1) }, { name: 'b', data: enc.encode('b') }]);
    for (const cut of [100, 512, 1000, 3584, 3600, 4096 + 512]) {
      expect(await rejectsWithCode(idx(tar.subarray(0, cut))), `cut at ${cut}`).toBe('data-loss');
    }
    expect((await idx(tar)).entries.length).toBe(2);
  });

  it('reports a corrupt checksum as data-loss, and accepts signed checksums', async () => {
    expect(await rejectsWithCode(idx(rawTar([{ name: 'ok' }, { name: 'bad', checksum: 'bad' }])))).toBe('data-loss');
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // a high byte makes signed != unsigned
    const index = await idx(rawTar([{ name: latin1, checksum: 'signed' }]));
    expect(index.entries.length).toBe(1);
    let message = '';
    try {
      await idx(rawTar([{ name: 'first' }, { name: 'bad', checksum: 'bad' }]));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/offset 512/);
  });

  it('reads base-256 sizes and skips char/block/fifo entries', async () => {
    const index = await idx(
      rawTar([
        { name: 'big', data: enc.encode('base256'), base256Size: true },
        { name: 'dev', flag: '3' },
        { name: 'fifo', flag: '6' },
        { name: 'after', data: enc.encode('z') },
      ]),
    );
    expect(index.entries.map((e) => [e.path, e.size])).toEqual([
      ['big', 7],
      ['after', 1],
    ]);
  });

  it('stops a gzip bomb at maxSize (resource-exhausted) without reading it all', async () => {
    const tar = writeTar([{ path: 'zeros', type: 'file', data: new Uint8Array(96 << 20) }]);
    const gz = gzipSync(tar, { level: 1 });
    let pulled = 0;
    const src = streamOf(gz, 1024);
    const counted = src.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(c, ctl) {
          pulled += c.length;
          ctl.enqueue(c);
        },
      }),
    );
    for (const usePako of [false, true]) {
      pulled = 0;
      const s = usePako ? streamOf(gz, 1024).pipeThrough(new TransformStream({ transform(c, ctl) { pulled += c.length; ctl.enqueue(c); } })) : counted;
      const code = await rejectsWithCode(indexLayer(decompressLayer(s, MediaType.OciLayerGzip, { usePako }), { maxSize: 1 << 20 }));
      expect(code).toBe('resource-exhausted');
      // Native decompression lets a few input chunks run ahead of the reader; still a small share.
      expect(pulled, `pako=${usePako}`).toBeLessThan(gz.length / 8);
    }
    // Under the limit it passes.
    expect((await indexLayer(decompressLayer(streamOf(gz), MediaType.OciLayerGzip), { maxSize: 128 << 20 })).size).toBe(tar.length);
  });

  it('maps media types: zstd unimplemented, unknown invalid-argument, corrupt gzip data-loss', async () => {
    const s = () => streamOf(new Uint8Array(10));
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(code(() => decompressLayer(s(), MediaType.OciLayerZstd))).toBe('unimplemented');
    expect(code(() => decompressLayer(s(), MediaType.WasmLayer))).toBe('invalid-argument');
    expect(code(() => decompressLayer(s(), 'text/plain'))).toBe('invalid-argument');
    expect(decompressLayer(s(), MediaType.OciLayer)).toBeInstanceOf(ReadableStream);
    const gz = gzipSync(writeTar([{ path: 'f', type: 'file', data: new Uint8Array(5000).fill(3) }]));
    for (const usePako of [false, true]) {
      const corrupt = new Uint8Array(gz); // Buffer#slice would be a view
      corrupt[20] ^= 0xff;
      corrupt[30] ^= 0xff;
      expect(await rejectsWithCode(indexLayer(decompressLayer(streamOf(corrupt), MediaType.OciLayerGzip, { usePako })))).toBe('data-loss');
      const cut = gz.subarray(0, gz.length - 10);
      expect(await rejectsWithCode(indexLayer(decompressLayer(streamOf(cut), MediaType.OciLayerGzip, { usePako })))).toBe('data-loss');
    }
  });

  it('readTar gives each entry its data and offsets', async () => {
    const tar = rawTar([{ name: 'a', data: enc.encode('AAA') }, { name: 'b', data: enc.encode('BB') }, { name: 'c', data: enc.encode('C') }]);
    const got: [string, string, number][] = [];
    const reader = readTar(streamOf(tar, 7));
    for await (const e of reader) {
      if (e.path === 'b') continue; // unread data is skipped
      got.push([e.path, new TextDecoder().decode(await e.bytes()), e.offset]);
    }
    expect(got).toEqual([
      ['a', 'AAA', 512],
      ['c', 'C', 512 * 5],
    ]);
    expect(await reader.drain()).toBe(512);
    expect(reader.position).toBe(tar.length);
  });
});

describe('entry types berth cannot represent', () => {
  it('refuses GNU sparse files (unimplemented) rather than reading wrong bytes', async () => {
    expect(await rejectsWithCode(idx(rawTar([{ name: 'sp', flag: 'S', data: enc.encode('x') }])))).toBe('unimplemented');
  });
  it('treats a GNU dumpdir as a directory', async () => {
    const index = await idx(rawTar([{ name: 'd/', flag: 'D', data: enc.encode('Ya\0\0') }, { name: 'd/a' }]));
    expect(index.entries.map((e) => [e.path, e.type])).toEqual([
      ['d', 'dir'],
      ['d/a', 'file'],
    ]);
  });
  it('releases the stream when the reader stops early', async () => {
    let cancelled = false;
    const tar = rawTar([{ name: 'a' }, { name: 'b' }]);
    const s = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(tar.slice(0, 512));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const e of readTar(s)) {
      expect(e.path).toBe('a');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
