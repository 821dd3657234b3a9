// Unpack + index throughput of one ~100 MB layer at pull time (decompress as a stream, split between
// the content store's verified write and the tar indexer): Node's codecs (node:zlib, what the fs
// store gives), native DecompressionStream gunzip and pako (the web path), and zstd through fzstd
// where the `zstd` tool exists to make the layer.
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { MemoryContentStore, MemoryRecords } from '../runtime/content/index.ts';
import { nodeCodecs } from '../runtime/content/node-codecs.ts';
import { MediaType, sha256, type StreamCodecs } from '../runtime/core/index.ts';
import { ImageStore } from '../runtime/images/image-store.ts';
import { unpackLayer } from '../runtime/images/unpack-layer.ts';
import { writeTar, type TarWriteEntry } from '../runtime/layers/index.ts';
import type { BenchRow } from './bench-table.ts';

/** ~100 MB of files that compress like real binaries and text (about 3:1), sizes 1 KB to 4 MB. */
function makeLayer(): Uint8Array {
  const entries: TarWriteEntry[] = [];
  let total = 0;
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed >>> 16);
  const words = ['the', 'layer', 'berth', 'wasm', 'index', 'offset', 'tar', 'gzip', 'func', 'return', '0x00', '\n'];
  for (let i = 0; total < 100e6; i++) {
    const size = i % 50 === 0 ? 4 << 20 : 1024 + (rnd() % 200_000);
    const data = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      if (rnd() % 3 === 0) {
        data[at++] = rnd() & 0xff;
      } else {
        const w = words[rnd() % words.length];
        for (let k = 0; k < w.length && at < size; k++) data[at++] = w.charCodeAt(k);
      }
    }
    entries.push({ path: `usr/share/d${i % 40}/f${i}`, type: 'file', data });
    total += size;
  }
  return writeTar(entries);
}

export async function run(): Promise<BenchRow[]> {
  const tar = makeLayer();
  const diffId = await sha256(tar);
  const mb = tar.length / 1e6;
  const variants: { subject: string; blob: Uint8Array; mediaType: string; usePako?: boolean; codecs?: StreamCodecs }[] =
    [];
  const gz = new Uint8Array(gzipSync(tar, { level: 6 }));
  variants.push({
    subject: 'gzip, node:zlib (Node codecs)',
    blob: gz,
    mediaType: MediaType.OciLayerGzip,
    codecs: nodeCodecs,
  });
  variants.push({ subject: 'gzip, native DecompressionStream', blob: gz, mediaType: MediaType.OciLayerGzip });
  variants.push({ subject: 'gzip, pako', blob: gz, mediaType: MediaType.OciLayerGzip, usePako: true });
  try {
    const zst = new Uint8Array(execFileSync('zstd', ['-q', '-3', '-c'], { input: tar, maxBuffer: 1 << 30 }));
    variants.push({ subject: 'zstd -3, fzstd', blob: zst, mediaType: MediaType.OciLayerZstd });
  } catch {
    // no zstd tool: no zstd row
  }
  variants.push({ subject: 'uncompressed tar', blob: tar, mediaType: MediaType.OciLayer });
  const rows: BenchRow[] = [];
  const b = `unpack + index a ${mb.toFixed(0)} MB layer (Node, memory store)`;
  for (const v of variants) {
    const times: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const content = new MemoryContentStore({ codecs: v.codecs });
      const store = new ImageStore({ content, records: new MemoryRecords() });
      const digest = v.mediaType === MediaType.OciLayer ? diffId : await sha256(v.blob);
      if (v.mediaType !== MediaType.OciLayer) await content.put({ digest }, v.blob);
      const t = performance.now();
      if (v.mediaType === MediaType.OciLayer) await content.put({ digest }, v.blob); // the download's own verified write
      const index = await unpackLayer(store, { digest, mediaType: v.mediaType }, diffId, { usePako: v.usePako });
      times.push(performance.now() - t);
      if (index.size !== tar.length)
        throw new Error(`bench: ${v.subject} indexed ${index.size} bytes, expected ${tar.length}`);
    }
    const best = Math.min(...times);
    rows.push({
      benchmark: b,
      subject: v.subject,
      metric: 'throughput (uncompressed)',
      value: mb / (best / 1000),
      unit: 'MB/s',
      note: `best of 3, ${best.toFixed(0)} ms, ${(v.blob.length / 1e6).toFixed(0)} MB in`,
    });
  }
  return rows;
}
