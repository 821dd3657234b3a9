// Cost of deadline metering (runtime/wasm/instrument-deadline.ts) in Node: run time of
// compute-bound guests unmetered vs metered at several fuel sizes (medians, and the ratio),
// and the time the rewrite itself takes on the largest modules at hand.
import { existsSync, readFileSync } from 'node:fs';
import { deadlineImports, instrumentDeadline } from '../runtime/wasm/instrument-deadline.ts';
import { Wasi } from '../runtime/wasi/index.ts';
import { percentile, type BenchRow } from './bench-table.ts';

const B = 'deadline instrumentation (Node)';
const FUELS = [1_000, 65_536, 1_000_000];
const RUNS = 9;

function timeRun(module: WebAssembly.Module, args: string[], extra: WebAssembly.Imports): { ms: number; out: string } {
  let out = '';
  const wasi = new Wasi({ args, stdout: (c) => (out += new TextDecoder().decode(c)) });
  const instance = new WebAssembly.Instance(module, { ...wasi.imports, ...extra });
  const t0 = performance.now();
  wasi.start(instance);
  return { ms: performance.now() - t0, out };
}

const guests: { subject: string; file: string; args: string[]; note: string }[] = [
  {
    subject: 'sha256 (bench-compute)',
    file: '../tests/fixtures/wasi/bench-compute.wasm',
    args: ['x', '2', '4'],
    note: '2 MiB x 4 rounds: short inner loops',
  },
  {
    subject: 'tight loop (busy)',
    file: '../tests/fixtures/deadline/busy.wasm',
    args: ['x', '100000000'],
    note: '1e8 FNV steps: worst case for loop checks',
  },
  {
    subject: 'recursion (recurse)',
    file: '../tests/fixtures/deadline/recurse.wasm',
    args: ['x', '23'],
    note: '2^24 tiny calls: worst case for entry checks',
  },
];

const variants = FUELS.map((fuel) => ({ name: `metered, fuel ${fuel}`, fuel }));

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const never = () => Number.POSITIVE_INFINITY;
  for (const g of guests) {
    const wasm = new Uint8Array(readFileSync(new URL(g.file, import.meta.url)));
    const subjects = [
      { name: 'original', module: new WebAssembly.Module(wasm), imports: {} as WebAssembly.Imports },
      ...variants.map((v) => ({
        name: v.name,
        module: new WebAssembly.Module(instrumentDeadline(wasm, { fuel: v.fuel })),
        imports: deadlineImports(never, { fuel: v.fuel }) as WebAssembly.Imports,
      })),
    ];
    const expected = timeRun(subjects[0].module, g.args, {}).out;
    // Interleaved rounds, after two warm-up rounds (tier-up): a busy machine slows all alike.
    const times = subjects.map(() => [] as number[]);
    for (let round = 0; round < RUNS + 2; round++) {
      subjects.forEach((s, i) => {
        const r = timeRun(s.module, g.args, s.imports);
        if (r.out !== expected) throw new Error(`bench: ${s.name} printed ${r.out}, the original ${expected}`);
        if (round >= 2) times[i].push(r.ms);
      });
    }
    times.forEach((t) => t.sort((a, b) => a - b));
    const base = percentile(times[0], 50);
    rows.push({
      benchmark: B,
      subject: g.subject,
      metric: 'original, median',
      value: base,
      unit: 'ms',
      note: `${g.note}; ${RUNS} interleaved runs; min ${times[0][0].toFixed(1)} ms`,
    });
    subjects.slice(1).forEach((s, j) => {
      const t = times[j + 1];
      const med = percentile(t, 50);
      rows.push({
        benchmark: B,
        subject: g.subject,
        metric: `${s.name}: ratio of medians`,
        value: med / base,
        unit: 'x',
        note: `median ${med.toFixed(1)} ms; ratio of mins ${(t[0] / times[0][0]).toFixed(2)}`,
      });
    });
  }

  // The rewrite itself, on the largest modules here (the node_modules ones only if installed).
  const modules = [
    '../examples/hello-web-db/hello-web-db.wasm',
    '../tests/fixtures/deadline/spin-names.wasm',
    '../node_modules/playwright-core/lib/webp_codec.wasm',
    '../node_modules/@wasmer/wasi/tests/test.wasm',
  ];
  const present = modules.filter((m) => existsSync(new URL(m, import.meta.url)));
  for (const m of present) instrumentDeadline(new Uint8Array(readFileSync(new URL(m, import.meta.url)))); // JIT warm-up
  for (const m of present) {
    const url = new URL(m, import.meta.url);
    const wasm = new Uint8Array(readFileSync(url));
    const times: number[] = [];
    let out = wasm;
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      out = instrumentDeadline(wasm);
      times.push(performance.now() - t0);
    }
    const first = times[0];
    times.sort((a, b) => a - b);
    const name = m.replace(/^.*\//, '');
    const note = `${(wasm.length / 1024).toFixed(0)} KiB -> +${(((out.length - wasm.length) / wasm.length) * 100).toFixed(1)}%; first timed run ${first.toFixed(1)} ms; validates: ${WebAssembly.validate(out)}`;
    rows.push({
      benchmark: B,
      subject: `rewrite ${name}`,
      metric: 'instrumentDeadline, median of 9',
      value: percentile(times, 50),
      unit: 'ms',
      note,
    });
  }
  return rows;
}
