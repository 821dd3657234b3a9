// Pull throughput of a 50 MB image from a local docker-registry: berth (Node, fs store: download,
// verify, unpack and index) against `skopeo copy` to an OCI layout dir, in one run, as a ratio.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FsContentStore } from '../runtime/content/fs-content-store.ts';
import { FsRecords } from '../runtime/content/fs-record-store.ts';
import { ImageStore, pullImage } from '../runtime/images/index.ts';
import { RegistryClient } from '../runtime/registry/index.ts';
import { imageLayout } from '../tests/support/layouts.ts';
import { skopeoCopy, startRegistry } from '../tests/support/registry.ts';
import type { BenchRow } from './bench-table.ts';

const run = promisify(execFile);
const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runBench(): Promise<BenchRow[]> {
  const reg = await startRegistry();
  try {
    const dir = await mkdtemp(join(tmpdir(), 'berth-bench-'));
    // 50 MB in five incompressible files, so the gzip layer is ~50 MB too.
    const files = Array.from({ length: 5 }, (_, i) => ({ path: `/data/part-${i}.bin`, data: randomBytes(10 << 20) }));
    const packed = await imageLayout(join(dir, 'layout'), 'big:1', { files });
    const size = packed.manifest.layers.reduce((a, l) => a + l.size, 0) + packed.manifest.config.size;
    await skopeoCopy(`oci:${join(dir, 'layout')}:big:1`, reg, 'bench/big:1');
    const ref = `${reg.host}/bench/big:1`;
    const berthMs: number[] = [];
    const skopeoMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const store = join(dir, `store-${i}`);
      const t0 = performance.now();
      await pullImage(
        new ImageStore({ content: new FsContentStore(store), records: new FsRecords(store) }),
        new RegistryClient(),
        ref,
      );
      berthMs.push(performance.now() - t0);
      await rm(store, { recursive: true, force: true });
      const out = join(dir, `skopeo-${i}`);
      const t1 = performance.now();
      await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:big:1`]);
      skopeoMs.push(performance.now() - t1);
      await rm(out, { recursive: true, force: true });
    }
    await rm(dir, { recursive: true, force: true });
    const mb = size / 1e6;
    const b = `pull ${mb.toFixed(0)} MB image from local docker-registry`;
    const bt = mb / (median(berthMs) / 1000);
    const st = mb / (median(skopeoMs) / 1000);
    return [
      {
        benchmark: b,
        subject: 'berth (Node, fs store, incl. unpack + index)',
        metric: 'median time',
        value: median(berthMs),
        unit: 'ms',
        note: `${RUNS} runs`,
      },
      {
        benchmark: b,
        subject: 'skopeo copy to OCI dir',
        metric: 'median time',
        value: median(skopeoMs),
        unit: 'ms',
        note: `${RUNS} runs`,
      },
      { benchmark: b, subject: 'berth', metric: 'throughput', value: bt, unit: 'MB/s' },
      { benchmark: b, subject: 'skopeo', metric: 'throughput', value: st, unit: 'MB/s' },
      {
        benchmark: b,
        subject: 'berth / skopeo',
        metric: 'throughput ratio',
        value: bt / st,
        unit: 'x',
        note: '>1 means berth is faster',
      },
    ];
  } finally {
    await reg.stop();
  }
}

export { runBench as run };
