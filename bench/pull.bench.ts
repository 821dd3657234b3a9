// `berth pull` as a whole process, against its floors, side by side in one run: a 3-layer ~50 MB
// gzip image from a local docker-registry, pulled by berth (fresh fs store: download, verify,
// gunzip, store blob and tar, index), by the Node floor (bench/pull-floor.mjs: fetch + sha256 +
// gunzip + diff_id, streaming, writes nothing) and by `skopeo copy` to an OCI dir (no gunzip).
// Then the peak RSS of `berth pull` of an image with one 200 MB layer, against the same command
// pulling a one-file image (idle). Runs interleaved, medians. `npm run bench -- pull`
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { MediaType, sha256, type Descriptor } from '../runtime/core/index.ts';
import { writeTar } from '../runtime/layers/index.ts';
import { parseReference, RegistryClient } from '../runtime/registry/index.ts';
import { startRegistry, type TestRegistry } from '../tests/support/registry.ts';
import type { BenchRow } from './bench-table.ts';
import { berthCommand, median, ROOT, timeProcess, type ProcessRun } from './processes.ts';

const RUNS = 5;
const RSS_RUNS = 3;
const MB = 1 << 20;
const gz = promisify(gzip);
const enc = new TextEncoder();

/** Bytes that compress like binaries and text mixed (about 1.8:1): 4 KiB random blocks between 4 KiB of words. */
export function semiCompressible(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const random = randomBytes(size);
  const words = ['the', 'layer', 'berth', 'wasm', 'index', 'offset', 'tar', 'gzip', 'func', 'return', '0x00', '\n'].map(
    (w) => enc.encode(w),
  );
  for (let at = 0, r = 0; at < size; ) {
    const end = Math.min(size, at + 4096);
    if ((at >> 12) % 2 === 0) {
      out.set(random.subarray(at, end), at);
      at = end;
      continue;
    }
    while (at < end) {
      const w = words[random[r++ % size] % words.length];
      for (let k = 0; k < w.length && at < end; k++) out[at++] = w[k];
    }
  }
  return out;
}

/** Pushes an image of gzip layers (one per list of files) as `repo:tag`; returns its compressed size. */
export async function pushImage(reg: TestRegistry, name: string, layers: { path: string; data: Uint8Array }[][]) {
  const client = new RegistryClient();
  const ref = parseReference(`${reg.host}/${name}`);
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const files of layers) {
    const tar = writeTar(files.map((f) => ({ path: f.path, type: 'file' as const, mode: 0o644, data: f.data })));
    const blob = new Uint8Array(await gz(tar));
    const digest = await sha256(blob);
    await client.pushBlob(ref, digest, blob);
    descs.push({ mediaType: MediaType.OciLayerGzip, digest, size: blob.length });
    diffIds.push(await sha256(tar));
  }
  const config = enc.encode(
    JSON.stringify({
      architecture: 'wasm',
      os: 'wasi',
      config: { Entrypoint: ['/app.wasm'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configDigest = await sha256(config);
  await client.pushBlob(ref, configDigest, config);
  const manifest = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
      layers: descs,
    }),
  );
  await client.pushManifest(ref, ref.tag!, manifest, MediaType.OciManifest);
  return { ref: `${reg.host}/${name}`, size: descs.reduce((a, d) => a + d.size, config.length), layers: descs };
}

export async function run(): Promise<BenchRow[]> {
  const berth = await berthCommand();
  const reg = await startRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-pull-'));
  try {
    const three = await pushImage(
      reg,
      'bench/three:1',
      [0, 1, 2].map((l) =>
        Array.from({ length: 5 }, (_, i) => ({ path: `l${l}/part-${i}.bin`, data: semiCompressible(5 * MB) })),
      ),
    );
    const big = await pushImage(reg, 'bench/big:1', [
      Array.from({ length: 4 }, (_, i) => ({ path: `big/part-${i}.bin`, data: randomBytes(50 * MB) })),
    ]);
    const tiny = await pushImage(reg, 'bench/tiny:1', [[{ path: 'hello.txt', data: enc.encode('hello\n') }]]);

    const pull = async (ref: string, i: number, what: string): Promise<ProcessRun> => {
      const store = join(dir, `store-${what}-${i}`);
      const r = await timeProcess(process.execPath, [...berth.argv, 'pull', '-q', '--store', store, ref], berth.env);
      await rm(store, { recursive: true, force: true });
      return r;
    };
    const berthRuns: ProcessRun[] = [];
    const floorRuns: ProcessRun[] = [];
    const skopeoRuns: ProcessRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      berthRuns.push(await pull(three.ref, i, 'three'));
      floorRuns.push(await timeProcess(process.execPath, [`${ROOT}bench/pull-floor.mjs`, three.ref]));
      const out = join(dir, `skopeo-${i}`);
      skopeoRuns.push(
        await timeProcess('skopeo', [
          'copy',
          '--quiet',
          '--src-tls-verify=false',
          `docker://${three.ref}`,
          `oci:${out}:x`,
        ]),
      );
      await rm(out, { recursive: true, force: true });
    }
    const bigRuns: ProcessRun[] = [];
    const idleRuns: ProcessRun[] = [];
    for (let i = 0; i < RSS_RUNS; i++) {
      bigRuns.push(await pull(big.ref, i, 'big'));
      idleRuns.push(await pull(tiny.ref, i, 'tiny'));
    }

    const ms = (runs: ProcessRun[]) => median(runs.map((r) => r.ms));
    const b = `pull a 3-layer ${(three.size / 1e6).toFixed(0)} MB gzip image from a local docker-registry (whole process)`;
    const note = `median of ${RUNS}, interleaved`;
    const rows: BenchRow[] = [
      {
        benchmark: b,
        subject: `berth pull (${berth.note}, fs store)`,
        metric: 'time',
        value: ms(berthRuns),
        unit: 'ms',
        note,
      },
      {
        benchmark: b,
        subject: 'Node floor (fetch + sha256 + gunzip + diff_id, streaming)',
        metric: 'time',
        value: ms(floorRuns),
        unit: 'ms',
        note,
      },
      { benchmark: b, subject: 'skopeo copy to an OCI dir', metric: 'time', value: ms(skopeoRuns), unit: 'ms', note },
      {
        benchmark: b,
        subject: 'berth / Node floor',
        metric: 'time ratio',
        value: ms(berthRuns) / ms(floorRuns),
        unit: 'x',
        note: 'goal <= 1.3',
      },
      {
        benchmark: b,
        subject: 'berth / skopeo',
        metric: 'time ratio',
        value: ms(berthRuns) / ms(skopeoRuns),
        unit: 'x',
      },
    ];
    const rss = (runs: ProcessRun[]) => median(runs.map((r) => r.maxRss ?? NaN)) / MB;
    if (bigRuns[0].maxRss !== undefined) {
      const m = `peak RSS of berth pull (whole process, ${berth.note})`;
      const rssNote = `median of ${RSS_RUNS}`;
      rows.push(
        {
          benchmark: m,
          subject: `one ${(big.size / 1e6).toFixed(0)} MB gzip layer`,
          metric: 'peak RSS',
          value: rss(bigRuns),
          unit: 'MiB',
          note: `${rssNote}, ${ms(bigRuns).toFixed(0)} ms`,
        },
        {
          benchmark: m,
          subject: `idle: a one-file image (${tiny.size} B)`,
          metric: 'peak RSS',
          value: rss(idleRuns),
          unit: 'MiB',
          note: rssNote,
        },
        {
          benchmark: m,
          subject: '200 MB layer - idle',
          metric: 'peak RSS',
          value: rss(bigRuns) - rss(idleRuns),
          unit: 'MiB',
          note: 'goal < 64',
        },
      );
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await reg.stop();
  }
}
