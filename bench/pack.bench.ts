// `berth pack` of a large wasm as a whole process, against `tar | gzip` of the same file, side by
// side in one run: a ~60 MB module (hello-web-db.wasm with a custom section of data that compresses
// like code, about 3.4:1) packed into a fresh store (tar, gzip, hashes, then the store's own
// verified write, gunzip and index of the layer) and into an OCI layout dir. `npm run bench -- pack`
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from './bench-table.ts';
import { berthCommand, median, ROOT, timeProcess, type ProcessRun } from './processes.ts';

const RUNS = 5;
const enc = new TextEncoder();

function leb128(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return new Uint8Array(out);
}

/** A valid module of about `size` bytes: a real program plus a custom section of code-like bytes. */
async function largeWasm(size: number): Promise<Uint8Array> {
  const base = new Uint8Array(await readFile(join(ROOT, 'examples/hello-web-db/hello-web-db.wasm')));
  const payload = new Uint8Array(size);
  const random = randomBytes(size * 2);
  const words = ['local.get', 'i32.add', 'call', 'br_if', 'memory', 'func', 'i64.load', 'end', '\0\0\0', '\n'].map(
    (w) => enc.encode(w),
  );
  for (let at = 0, r = 0; at < size; ) {
    const pick = random[r++] * 256 + random[r++];
    if (pick % 3 === 0) payload[at++] = random[r++ % random.length];
    else {
      const w = words[pick % words.length];
      for (let k = 0; k < w.length && at < size; k++) payload[at++] = w[k];
    }
    if (r >= random.length - 3) r = 0;
  }
  const name = enc.encode('berth.bench');
  const body = [leb128(name.length), name, payload];
  const bodySize = body.reduce((a, p) => a + p.length, 0);
  const parts = [base, new Uint8Array([0]), leb128(bodySize), ...body];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (!WebAssembly.validate(out)) throw new Error('bench: the generated module is not valid');
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const berth = await berthCommand();
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-pack-'));
  try {
    const files = join(dir, 'files');
    await mkdir(files);
    const wasm = join(files, 'app.wasm');
    await writeFile(wasm, await largeWasm(60e6));
    const size = (await stat(wasm)).size;
    const store: ProcessRun[] = [];
    const oci: ProcessRun[] = [];
    const tarGzip: ProcessRun[] = [];
    let gzSize = 0;
    for (let i = 0; i < RUNS; i++) {
      const s = join(dir, `store-${i}`);
      store.push(
        await timeProcess(
          process.execPath,
          [...berth.argv, 'pack', wasm, '-t', 'bench/pack:1', '--store', s],
          berth.env,
        ),
      );
      await rm(s, { recursive: true, force: true });
      const o = join(dir, `oci-${i}`);
      oci.push(
        await timeProcess(process.execPath, [...berth.argv, 'pack', wasm, '-t', 'bench/pack:1', '--oci', o], berth.env),
      );
      await rm(o, { recursive: true, force: true });
      const out = join(dir, `out-${i}.tar.gz`);
      tarGzip.push(await timeProcess('sh', ['-c', `tar -C '${files}' -cf - app.wasm | gzip > '${out}'`]));
      gzSize = (await stat(out)).size;
      await rm(out, { force: true });
    }
    // What berth's layer compresses to, for the size column.
    const o = join(dir, 'oci-size');
    await timeProcess(process.execPath, [...berth.argv, 'pack', wasm, '-t', 'bench/pack:1', '--oci', o], berth.env);
    const index = JSON.parse(await readFile(join(o, 'index.json'), 'utf8'));
    const manifestHex = index.manifests[0].digest.slice(7);
    const manifest = JSON.parse(await readFile(join(o, 'blobs/sha256', manifestHex), 'utf8'));
    const layerSize = manifest.layers[0].size as number;

    const ms = (runs: ProcessRun[]) => median(runs.map((r) => r.ms));
    const b = `pack a ${(size / 1e6).toFixed(0)} MB wasm (whole process)`;
    const note = `median of ${RUNS}, interleaved`;
    return [
      {
        benchmark: b,
        subject: `berth pack into a store (${berth.note})`,
        metric: 'time',
        value: ms(store),
        unit: 'ms',
        note: `${note}; layer ${(layerSize / 1e6).toFixed(1)} MB, peak RSS ${(median(store.map((r) => r.maxRss ?? NaN)) / 2 ** 20).toFixed(0)} MiB`,
      },
      { benchmark: b, subject: 'berth pack --oci DIR', metric: 'time', value: ms(oci), unit: 'ms', note },
      {
        benchmark: b,
        subject: 'tar piped to gzip (level 6)',
        metric: 'time',
        value: ms(tarGzip),
        unit: 'ms',
        note: `${note}; ${(gzSize / 1e6).toFixed(1)} MB`,
      },
      {
        benchmark: b,
        subject: 'berth pack (store) / tar + gzip',
        metric: 'time ratio',
        value: ms(store) / ms(tarGzip),
        unit: 'x',
        note: 'goal <= 1.5',
      },
      {
        benchmark: b,
        subject: 'berth pack --oci / tar + gzip',
        metric: 'time ratio',
        value: ms(oci) / ms(tarGzip),
        unit: 'x',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
